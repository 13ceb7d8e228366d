"""Every event type survives the wire: to_dict → from_dict gives the same event."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from app.engine.events import (
    EVENT_TYPES,
    ActionCompleted,
    ActionFailed,
    ActionRequested,
    AgentSaid,
    AgentTurnTagged,
    BotSaid,
    ConversationEnded,
    ConversationReopened,
    ConversationStarted,
    CounterIncremented,
    CustomerSaid,
    Event,
    GotoRequested,
    HandoffRequested,
    MessageUnderstood,
    ModeChanged,
    RatingGiven,
    SlotSet,
    StateEntered,
    SurveyRequested,
)

AT = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)

EXAMPLES: list[Event] = [
    ConversationStarted("c1", "default", "2026.11.1", "phone", "assist", {"customer_name": "王女士"}, AT),
    CustomerSaid("我的订单还没到", "m-1", AT),
    AgentSaid("您好,请问有什么可以帮您?", "greeting.standard", "小李", AT),
    ActionCompleted("lookup_order", {"carrier": "顺丰速运"}, AT),
    ActionFailed("lookup_order", "timed out", AT),
    SlotSet("order_id", "202611180001"),
    GotoRequested("confirm", "小李", AT),
    ModeChanged("assist", "小李", AT),
    MessageUnderstood("order_status", 0.91, "negative", "unclear", False),
    AgentTurnTagged("confirm", ("apology", "confirm"), "confirm.generic", 88.5),
    StateEntered("confirm", "apology", "next"),
    CounterIncremented("corrections"),
    BotSaid("您是说订单还没到,对吗?", "confirm.generic", "confirm"),
    ActionRequested("lookup_order", {"order_id": "202611180001"}),
    HandoffRequested("customer_message"),
    ConversationEnded("ended"),
    SurveyRequested(),
    RatingGiven(4, "师傅很耐心", at=AT),
    ConversationReopened(),
]


def test_every_event_type_has_an_example() -> None:
    assert {type(e) for e in EXAMPLES} == set(EVENT_TYPES.values())


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: e.type)
def test_event_round_trips_through_json(event: Event) -> None:
    wire = json.loads(json.dumps(event.to_dict(), ensure_ascii=False))
    assert wire["type"] == event.type
    assert Event.from_dict(wire) == event


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: e.type)
def test_wire_form_is_already_what_json_gives_back(event: Event) -> None:
    # The store hands appended rows back as given, so this must hold (no tuples, no non-str keys).
    wire = event.to_dict()
    assert json.loads(json.dumps(wire, ensure_ascii=False)) == wire  # a tuple would come back a list


def test_unknown_event_type_is_rejected_by_name() -> None:
    with pytest.raises(ValueError, match="unknown event type 'nope'"):
        Event.from_dict({"type": "nope"})


def test_unknown_event_field_is_rejected_by_name() -> None:
    with pytest.raises(ValueError, match="unknown fields \\['colour'\\]"):
        Event.from_dict({"type": "slot_set", "name": "a", "value": "b", "colour": "red"})
