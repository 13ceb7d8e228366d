"""Assist mode and replay follow the human: a fulfilment action that was never run (replay) does not
hold the script once the agent answers (docs/qa.md, "How an agent turn moves the state")."""

from __future__ import annotations

from app.engine.conversation import Conversation
from app.engine.events import ActionCompleted, AgentSaid, CustomerSaid
from app.engine.step import Engine


def waiting_for_the_order_lookup(engine: Engine) -> Conversation:
    started = engine.start("assist-lookup", mode="assist")
    asked = engine.step(started.conversation, CustomerSaid("我的快递到哪了 订单号202611180001"), with_suggestions=False)
    assert asked.conversation.pending_action == "lookup_order"
    assert asked.conversation.state == "lookup_order"
    return asked.conversation


def test_an_agents_answer_stands_for_the_pending_actions_outcome(engine: Engine) -> None:
    conversation = waiting_for_the_order_lookup(engine)
    result = engine.step(conversation, AgentSaid("您的包裹已经到达北京分拣中心,预计明天送达"), with_suggestions=False)
    assert ActionCompleted("lookup_order") in result.events
    assert result.conversation.pending_action is None
    assert result.conversation.state != "lookup_order"


def test_the_agent_saying_please_wait_keeps_the_script_waiting(engine: Engine) -> None:
    conversation = waiting_for_the_order_lookup(engine)
    result = engine.step(conversation, AgentSaid("请您稍等,正在为您查询"), with_suggestions=False)
    assert not any(isinstance(e, ActionCompleted) for e in result.events)
    assert result.conversation.state == "lookup_order"


def test_a_turn_with_no_script_act_leaves_the_action_pending(engine: Engine) -> None:
    conversation = waiting_for_the_order_lookup(engine)
    result = engine.step(conversation, AgentSaid("嗯"), with_suggestions=False)
    assert result.conversation.pending_action == "lookup_order"
