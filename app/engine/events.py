"""Conversation events: immutable, past-tense facts with a stable wire `type`.

A conversation is the fold of its events (`Conversation.from_events`). Input events come from the edges
(a customer or agent said something, an action finished) with their timestamps; the engine derives the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class Event:
    type: ClassVar[str] = "event"

    def to_dict(self) -> dict[str, Any]:
        """The wire form. Built field by field: `dataclasses.asdict` deep-copies, which cost ~0.4 ms a turn."""
        data: dict[str, Any] = {"type": self.type}
        for name in _FIELD_NAMES[type(self)]:
            value = getattr(self, name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, dict):
                value = dict(value)
            elif isinstance(value, tuple):
                value = list(value)  # the wire form is plain JSON
            data[name] = value
        return data

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Event:
        """Rebuild an event from its wire form; unknown types and fields raise `ValueError`."""
        kind = data.get("type")
        cls = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
        if cls is None:
            raise ValueError(f"unknown event type {kind!r}")
        values = {k: v for k, v in data.items() if k != "type"}
        names = {f.name for f in fields(cls)}
        unknown = set(values) - names
        if unknown:
            raise ValueError(f"event {kind!r} has unknown fields {sorted(unknown)}")
        for f in fields(cls):
            if f.name == "at" and isinstance(values.get("at"), str):
                values["at"] = datetime.fromisoformat(values["at"])
            elif isinstance(values.get(f.name), list) and f.name in _TUPLE_FIELDS:
                values[f.name] = tuple(values[f.name])
        return cls(**values)


_TUPLE_FIELDS = {"stages"}


# ------------------------------------------------------------ input events (from the edges)


@dataclass(frozen=True, slots=True)
class ConversationStarted(Event):
    type: ClassVar[str] = "conversation_started"
    conversation_id: str
    flow: str
    flow_version: str
    channel: str = "online"
    mode: str = "bot"  # bot | assist (a human agent answers; the engine suggests)
    slots: dict[str, str] = field(default_factory=dict)
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CustomerSaid(Event):
    type: ClassVar[str] = "customer_said"
    text: str
    message_id: str | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AgentSaid(Event):
    type: ClassVar[str] = "agent_said"
    text: str
    phrase_id: str | None = None
    agent: str | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ActionCompleted(Event):
    type: ClassVar[str] = "action_completed"
    action: str
    slots: dict[str, str] = field(default_factory=dict)
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ActionFailed(Event):
    type: ClassVar[str] = "action_failed"
    action: str
    reason: str = ""
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SlotSet(Event):
    """A slot got a value (from the NLU, an action, or an agent's `set_slot`)."""

    type: ClassVar[str] = "slot_set"
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class GotoRequested(Event):
    """An agent moved the conversation to a state by hand."""

    type: ClassVar[str] = "goto_requested"
    state: str
    agent: str | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ModeChanged(Event):
    """`assist`: a human answers (takeover, or hand-off picked up); `bot`: the bot answers again (release)."""

    type: ClassVar[str] = "mode_changed"
    mode: str
    agent: str | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RatingGiven(Event):
    """The customer rated the service (1–5): a `rate` frame, or a digit reply to the survey."""

    type: ClassVar[str] = "rating_given"
    score: int
    comment: str = ""
    at: datetime | None = None


# ------------------------------------------------------------ derived events (from the engine)


@dataclass(frozen=True, slots=True)
class MessageUnderstood(Event):
    type: ClassVar[str] = "message_understood"
    intent: str
    confidence: float
    emotion: str = "neutral"
    confirmation: str = "unclear"
    handoff: bool = False


@dataclass(frozen=True, slots=True)
class AgentTurnTagged(Event):
    """Which script stage(s) an agent's message fulfils, in the order they appear in the text."""

    type: ClassVar[str] = "agent_turn_tagged"
    stage: str
    stages: tuple[str, ...] = ()
    phrase_id: str | None = None
    score: float = 0.0


@dataclass(frozen=True, slots=True)
class StateEntered(Event):
    type: ClassVar[str] = "state_entered"
    state: str
    previous: str | None = None
    trigger: str = ""


@dataclass(frozen=True, slots=True)
class CounterIncremented(Event):
    type: ClassVar[str] = "counter_incremented"
    name: str


@dataclass(frozen=True, slots=True)
class BotSaid(Event):
    type: ClassVar[str] = "bot_said"
    text: str
    phrase_id: str
    stage: str


@dataclass(frozen=True, slots=True)
class ActionRequested(Event):
    type: ClassVar[str] = "action_requested"
    action: str
    args: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HandoffRequested(Event):
    type: ClassVar[str] = "handoff_requested"
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ConversationEnded(Event):
    type: ClassVar[str] = "conversation_ended"
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SurveyRequested(Event):
    """The conversation ended and the flow asks for a rating: a digit reply is taken as one."""

    type: ClassVar[str] = "survey_requested"


@dataclass(frozen=True, slots=True)
class ConversationReopened(Event):
    """The customer wrote again after the end; the script picks up at listening."""

    type: ClassVar[str] = "conversation_reopened"


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        ConversationStarted,
        CustomerSaid,
        AgentSaid,
        ActionCompleted,
        ActionFailed,
        SlotSet,
        GotoRequested,
        ModeChanged,
        RatingGiven,
        MessageUnderstood,
        AgentTurnTagged,
        StateEntered,
        CounterIncremented,
        BotSaid,
        ActionRequested,
        HandoffRequested,
        ConversationEnded,
        SurveyRequested,
        ConversationReopened,
    )
}
_FIELD_NAMES: dict[type[Event], tuple[str, ...]] = {
    cls: tuple(f.name for f in fields(cls)) for cls in EVENT_TYPES.values()
}
