"""A conversation is the fold of its events, and a restored conversation continues identically."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from app.engine.conversation import Conversation
from app.engine.events import AgentSaid, CustomerSaid, Event, ModeChanged, SlotSet
from app.engine.step import Engine

AT = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
SCRIPT = ["你好", "我买的耳机想退货,订单号202611150002", "不对,是想换货", "对", "还有个问题,发票怎么开?", "没有了,谢谢"]


def run(engine: Engine, conversation: Conversation, texts: list[str]) -> tuple[Conversation, list[Event], list[str]]:
    events: list[Event] = []
    replies: list[str] = []
    for text in texts:
        result = engine.step(conversation, CustomerSaid(text, at=AT))
        conversation = result.conversation
        events.extend(result.events)
        replies.extend(r.text for r in result.replies)
    return conversation, events, replies


def test_state_equals_the_fold_of_its_events(engine: Engine) -> None:
    start = engine.start("fold-1", at=AT)
    final, events, _ = run(engine, start.conversation, SCRIPT)
    assert Conversation.from_events([*start.events, *events]) == final
    assert final.ended


def test_events_on_the_wire_fold_to_the_same_state(engine: Engine) -> None:
    start = engine.start("fold-2", at=AT)
    final, events, _ = run(engine, start.conversation, SCRIPT[:3])
    wire = json.loads(json.dumps([e.to_dict() for e in (*start.events, *events)], ensure_ascii=False))
    assert Conversation.from_events(Event.from_dict(d) for d in wire) == final


def test_conversation_restored_from_json_continues_identically(engine: Engine) -> None:
    start = engine.start("restore-1", at=AT)
    middle, _, _ = run(engine, start.conversation, SCRIPT[:2])
    restored = Conversation.from_dict(json.loads(json.dumps(middle.to_dict(), ensure_ascii=False)))
    assert restored == middle
    live = run(engine, middle, SCRIPT[2:])
    again = run(engine, restored, SCRIPT[2:])
    assert live[0] == again[0]
    assert [e.to_dict() for e in live[1]] == [e.to_dict() for e in again[1]]
    assert live[2] == again[2]


def test_step_does_not_change_the_conversation_it_is_given(engine: Engine) -> None:
    start = engine.start("pure-1", at=AT)
    before = start.conversation.to_dict()
    engine.step(start.conversation, CustomerSaid("我要退货", at=AT))
    assert start.conversation.to_dict() == before


def test_same_input_gives_the_same_output(engine: Engine) -> None:
    one = run(engine, engine.start("det", at=AT).conversation, SCRIPT)
    two = run(engine, engine.start("det", at=AT).conversation, SCRIPT)
    assert one[2] == two[2]


def test_variants_rotate_deterministically_with_the_turn(engine: Engine) -> None:
    phrase = next(p for p in engine.content.phrases.values() if len(p.templates) > 1 and p.stage == "close-check" and not p.placeholders)
    texts = {engine.suggester.render(phrase.id, {}, turn=t).text for t in range(len(phrase.templates))}
    assert len(texts) == len(phrase.templates)


def test_slot_set_and_mode_change_are_folded(engine: Engine) -> None:
    start = engine.start("slots", at=AT)
    result = engine.step(start.conversation, SlotSet("customer_name", "王女士"))
    result = engine.step(result.conversation, ModeChanged("assist", agent="小李", at=AT))
    assert result.conversation.slots["customer_name"] == "王女士"
    assert result.conversation.mode == "assist"
    assert result.suggestions  # assist mode: the sidebar gets suggestions


def test_agent_turn_in_assist_mode_moves_the_script(engine: Engine) -> None:
    start = engine.start("assist-1", mode="assist", slots={"agent_name": "小李"}, at=AT)
    assert start.conversation.state == "greeting" and not start.replies
    assert start.suggestions[0].stage == "greeting" and "小李" in start.suggestions[0].text
    result = engine.step(start.conversation, AgentSaid("您好,很高兴为您服务!我是小李,请问有什么可以帮到您?", at=AT))
    assert result.tag is not None and result.tag.stage in ("greeting", "listen")
    assert result.conversation.state == "listen"
    result = engine.step(result.conversation, CustomerSaid("我要退货,衣服尺码不对", at=AT))
    assert result.conversation.state == "confirm" and not result.replies
    assert result.suggestions[0].stage == "confirm"


def test_customer_writing_while_assist_mode_waits_at_the_farewell_reopens(engine: Engine) -> None:
    conversation = engine.start("assist-2", mode="assist", at=AT).conversation
    conversation = engine.step(conversation, CustomerSaid("没有了,谢谢", at=AT)).conversation
    assert conversation.state == "farewell"  # waiting for the agent to say goodbye
    result = engine.step(conversation, CustomerSaid("还有个问题,发票怎么开?", at=AT))
    assert result.conversation.state == "answer" and not result.conversation.ended
