"""The pytransitions adapter: one shared machine per flow; conversations are not machine models."""

from __future__ import annotations

import pytest

from app.content.loader import parse_flow
from app.engine.conditions import TurnContext
from app.engine.machine import CUSTOMER_MESSAGE, NEXT, FlowMachine
from app.errors import InvalidTransition, UnknownState
from app.nlu.analysis import Analysis

FLOW = """\
flow: tiny
initial: hello
always:
  - when: {handoff: true}
    goto: human
states:
  hello: {stage: greeting, then: listen}
  listen:
    stage: listen
    say: false
    on:
      - when: {intent: complaint, emotion: [angry, negative]}
        goto: sorry
      - when: {intent: order_status, slot_missing: order_id}
        goto: ask
      - when: {counter_at_least: {unclear: 2}}
        goto: human
      - goto: answer
  sorry: {stage: apology, then: answer}
  ask: {stage: clarify, on: [{goto: answer}]}
  answer: {stage: answer, then: done}
  human: {stage: hand-off, final: true, say: true}
  done: {stage: farewell, final: true}
"""


def analysis(intent: str = "other", emotion: str = "neutral", handoff: bool = False) -> Analysis:
    return Analysis(text="x", normalized="x", intent=intent, confidence=0.9, emotion=emotion, handoff=handoff)


def ctx(a: Analysis | None = None, slots: dict[str, str] | None = None, counters: dict[str, int] | None = None) -> TurnContext:
    return TurnContext(a, slots or {}, counters or {})


@pytest.fixture(scope="module")
def machine() -> FlowMachine:
    flow = parse_flow(FLOW)
    assert flow is not None
    return FlowMachine(flow)


def test_first_route_whose_condition_holds_is_taken(machine: FlowMachine) -> None:
    move = machine.fire("listen", CUSTOMER_MESSAGE, ctx(analysis("complaint", "angry")))
    assert move is not None and move.state == "sorry"


def test_all_fields_of_a_condition_must_hold(machine: FlowMachine) -> None:
    move = machine.fire("listen", CUSTOMER_MESSAGE, ctx(analysis("complaint", "positive")))
    assert move is not None and move.state == "answer"


def test_slot_condition_sees_conversation_slots(machine: FlowMachine) -> None:
    missing = machine.fire("listen", CUSTOMER_MESSAGE, ctx(analysis("order_status")))
    present = machine.fire("listen", CUSTOMER_MESSAGE, ctx(analysis("order_status"), {"order_id": "1"}))
    assert (missing and missing.state, present and present.state) == ("ask", "answer")


def test_counter_condition(machine: FlowMachine) -> None:
    move = machine.fire("listen", CUSTOMER_MESSAGE, ctx(analysis(), counters={"unclear": 2}))
    assert move is not None and move.state == "human"


def test_always_routes_come_before_the_states_own(machine: FlowMachine) -> None:
    move = machine.fire("ask", CUSTOMER_MESSAGE, ctx(analysis("complaint", "angry", handoff=True)))
    assert move is not None and move.state == "human"
    assert move.route is not None and move.route.when.handoff is True


def test_then_is_the_next_trigger(machine: FlowMachine) -> None:
    move = machine.fire("hello", NEXT, ctx())
    assert move is not None and move.state == "listen"


def test_trigger_not_valid_in_state_raises_our_error(machine: FlowMachine) -> None:
    with pytest.raises(InvalidTransition, match="tiny"):
        machine.fire("listen", NEXT, ctx())


def test_unknown_state_raises_our_error(machine: FlowMachine) -> None:
    with pytest.raises(UnknownState):
        machine.fire("nowhere", NEXT, ctx())


def test_machine_is_shared_and_keeps_no_conversation_state(machine: FlowMachine) -> None:
    machine.fire("listen", CUSTOMER_MESSAGE, ctx(analysis("complaint", "angry")))
    assert machine._machine.models == []  # conversations never register as models


def test_fast_path_agrees_with_firing_pytransitions_for_every_state_and_trigger(engine) -> None:  # type: ignore[no-untyped-def]
    """`fire` reads the machine's table; `trigger` goes through pytransitions: same answers everywhere."""
    from itertools import product

    contexts = [
        ctx(analysis(intent, emotion, handoff), slots, counters)
        for intent, emotion, handoff in product(
            ["complaint", "order_status", "thanks_bye", "other", "warranty", "greeting"], ["neutral", "angry", "negative"], [False, True]
        )
        for slots in ({}, {"order_id": "1", "topic": "order_status"})
        for counters in ({}, {"angry": 2, "unclear": 2, "order_id_asked": 2})
    ]
    for machine in engine.machines.values():
        for state in machine.flow.states:
            for trigger in machine._machine.events:
                if not machine.can(state, trigger):
                    with pytest.raises(InvalidTransition):
                        machine.trigger(state, trigger, contexts[0])
                    with pytest.raises(InvalidTransition):
                        machine.fire(state, trigger, contexts[0])
                    continue
                for context in contexts:
                    assert machine.fire(state, trigger, context) == machine.trigger(state, trigger, context), (state, trigger)
