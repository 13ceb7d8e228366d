"""A conversation's state: the fold of its events, serialisable to JSON and back."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from app.engine.events import (
    ActionCompleted,
    ActionFailed,
    ActionRequested,
    AgentSaid,
    BotSaid,
    ConversationEnded,
    ConversationReopened,
    ConversationStarted,
    CounterIncremented,
    CustomerSaid,
    Event,
    HandoffRequested,
    MessageUnderstood,
    ModeChanged,
    RatingGiven,
    SlotSet,
    StateEntered,
    SurveyRequested,
)
from app.vocab import Mode

MODES = tuple(Mode)


@dataclass(slots=True)
class Conversation:
    """Everything the engine needs to take the next step; nothing else (transcripts live in storage).

    `turn` counts messages (customer, agent and bot) and drives deterministic variant rotation.
    """

    id: str = ""
    flow: str = ""
    flow_version: str = ""
    channel: str = "online"
    mode: str = Mode.BOT
    state: str = ""
    slots: dict[str, str] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    turn: int = 0
    pending_action: str | None = None
    awaiting_agent: bool = False
    taken_over: bool = False  # a human took over from the bot: hand-off phrasings are not for them
    ended: bool = False
    survey_pending: bool = False  # asked for a rating and none given yet: a digit reply is the rating
    rating: int | None = None

    # ------------------------------------------------------------ the fold

    def apply(self, event: Event) -> None:
        """Advance by one event, in place. Events that change nothing here (e.g. tags) are ignored."""
        match event:
            case ConversationStarted():
                self.id = event.conversation_id
                self.flow = event.flow
                self.flow_version = event.flow_version
                self.channel = event.channel
                self.mode = event.mode
                self.slots.update(event.slots)
            case CustomerSaid() | AgentSaid() | BotSaid():
                self.turn += 1
            case MessageUnderstood():
                if event.emotion == "angry":
                    self._bump("angry")
                if event.emotion in ("angry", "negative"):
                    self._bump("negative")
            case SlotSet():
                self.slots[event.name] = event.value
            case StateEntered():
                self.state = event.state
            case CounterIncremented():
                self._bump(event.name)
            case ActionRequested():
                self.pending_action = event.action
            case ActionCompleted() | ActionFailed():
                self.pending_action = None
            case HandoffRequested():
                self.awaiting_agent = self.mode == Mode.BOT
            case ModeChanged():
                # A human answering after the bot has taken over; a release hands back to the bot.
                self.taken_over = event.mode != Mode.BOT and (self.taken_over or self.mode == Mode.BOT)
                self.mode = event.mode
                self.awaiting_agent = False
            case ConversationEnded():
                self.ended = True
            case ConversationReopened():
                self.ended = False
                self.survey_pending = False
            case SurveyRequested():
                self.survey_pending = self.rating is None
            case RatingGiven():
                self.rating = event.score
                self.survey_pending = False

    def _bump(self, name: str) -> None:
        self.counters[name] = self.counters.get(name, 0) + 1

    @classmethod
    def from_events(cls, events: Iterable[Event]) -> Conversation:
        conversation = cls()
        for event in events:
            conversation.apply(event)
        return conversation

    def copy(self) -> Conversation:
        return Conversation(
            id=self.id,
            flow=self.flow,
            flow_version=self.flow_version,
            channel=self.channel,
            mode=self.mode,
            state=self.state,
            slots=dict(self.slots),
            counters=dict(self.counters),
            turn=self.turn,
            pending_action=self.pending_action,
            awaiting_agent=self.awaiting_agent,
            taken_over=self.taken_over,
            ended=self.ended,
            survey_pending=self.survey_pending,
            rating=self.rating,
        )

    # ------------------------------------------------------------ JSON

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "flow": self.flow,
            "flow_version": self.flow_version,
            "channel": self.channel,
            "mode": self.mode,
            "state": self.state,
            "slots": dict(self.slots),
            "counters": dict(self.counters),
            "turn": self.turn,
            "pending_action": self.pending_action,
            "awaiting_agent": self.awaiting_agent,
            "taken_over": self.taken_over,
            "ended": self.ended,
            "survey_pending": self.survey_pending,
            "rating": self.rating,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Conversation:
        return cls(
            id=str(data["id"]),
            flow=str(data["flow"]),
            flow_version=str(data["flow_version"]),
            channel=str(data.get("channel", "online")),
            mode=str(data.get("mode", "bot")),
            state=str(data["state"]),
            slots={str(k): str(v) for k, v in data.get("slots", {}).items()},
            counters={str(k): int(v) for k, v in data.get("counters", {}).items()},
            turn=int(data.get("turn", 0)),
            pending_action=data.get("pending_action"),
            awaiting_agent=bool(data.get("awaiting_agent", False)),
            taken_over=bool(data.get("taken_over", False)),
            ended=bool(data.get("ended", False)),
            survey_pending=bool(data.get("survey_pending", False)),
            rating=int(data["rating"]) if data.get("rating") is not None else None,
        )
