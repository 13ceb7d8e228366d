"""The QA records: per-turn tags, findings and the assessment of one transcript, with their JSON shape.

The JSON field names (`id`, `score`, `findings`, `rule`, `turn`, …) are a public contract (issue 4):
extend, never rename. Reports get forwarded, so what a turn shows (`TurnTag.masked_text`, `masked_slots`) has
full personal numbers masked; every output (JSON, REST, HTML) takes the turn from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from app.pii import mask_all, mask_part
from app.records import pickled_by_fields

AGENT_ROLES: Final = frozenset({"agent", "bot"})


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class TurnTag:
    """One replayed turn: what the NLU understood (customer) or which stage it fulfils (agent, bot),
    and where the script stood before and after it.

    `context` is the conversation's slots after the turn (topic, issue, order_id, …); read-only.
    `text` and `slots` are as said: the rules need the real numbers to report them.
    """

    index: int
    role: str
    text: str
    ts: datetime | None
    state_before: str
    state: str
    expected: str | None = None  # the stage the script expected before an agent turn
    intent: str | None = None
    confidence: float | None = None
    emotion: str | None = None
    emotion_score: float | None = None
    confirmation: str | None = None
    slots: Mapping[str, str] = field(default_factory=dict)
    stage: str | None = None
    stages: tuple[str, ...] = ()
    phrase_id: str | None = None
    context: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_agent(self) -> bool:
        return self.role in AGENT_ROLES

    @property
    def topic(self) -> str | None:
        return self.context.get("topic")

    @property
    def masked_text(self) -> str:
        """The text as reports show it: full phone, ID card and bank card numbers masked (offsets kept)."""
        return mask_all(self.text)

    @property
    def masked_slots(self) -> dict[str, str]:
        """The slots as reports show them: a phone, or an ID card number filed as `order_id`, masked as in the text."""
        return {name: mask_part(value, self.text) for name, value in self.slots.items()}

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"turn": self.index, "role": self.role, "text": self.masked_text}
        if self.ts is not None:
            data["ts"] = self.ts.isoformat()
        if self.is_agent:
            data.update(stage=self.stage, stages=list(self.stages), phrase_id=self.phrase_id, expected=self.expected)
        else:
            data.update(
                intent=self.intent,
                confidence=_round(self.confidence),
                emotion=self.emotion,
                emotion_score=_round(self.emotion_score),
                confirmation=self.confirmation,
                slots=self.masked_slots,
            )
        data.update(state_before=self.state_before, state=self.state, topic=self.topic)
        return data


@dataclass(frozen=True, slots=True)
class Replay:
    """A transcript run through the engine: its turns, tagged, in order."""

    id: str
    channel: str
    agent: str | None
    flow: str
    turns: tuple[TurnTag, ...]
    partial_start: bool = False  # the transcript says it starts / ends mid-conversation
    partial_end: bool = False
    # Promises made in the conversation as exported with it (`aftercare.commitments`, docs/aftercare.md).
    commitments: tuple[Mapping[str, Any], ...] = ()
    agent_turns: tuple[TurnTag, ...] = field(init=False, default=())  # the agent and bot turns, in order

    def __post_init__(self) -> None:
        object.__setattr__(self, "agent_turns", tuple(t for t in self.turns if t.is_agent))

    def customer_before(self, index: int) -> TurnTag | None:
        """The last customer turn before turn `index`."""
        for turn in reversed(self.turns[:index]):
            if turn.role == "customer":
                return turn
        return None


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Evidence:
    """What a finding points at: a span `text[start:end]` of the turn's text, or a quote without offsets."""

    text: str
    start: int | None = None
    end: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "start": self.start, "end": self.end}


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Recommendation:
    """The standard phrasing that fits this point of the script (`id` is a phrase or forbidden-wording id)."""

    id: str | None
    text: str
    stage: str | None = None
    missing_slots: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "stage": self.stage, "missing_slots": list(self.missing_slots)}


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    turn: int
    severity: str
    message: str
    evidence: Evidence
    recommendation: Recommendation | None = None
    points: float = 0.0  # deducted by this finding before the rule's `max_deduction` cap
    fatal: bool = False
    source: str = ""  # the seed passage the rule comes from
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "turn": self.turn,
            "severity": self.severity,
            "message": self.message,
            "evidence": self.evidence.to_dict(),
            "recommendation": self.recommendation.to_dict() if self.recommendation else None,
            "points": self.points,
            "fatal": self.fatal,
            "source": self.source,
            "details": dict(self.details),
        }


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Assessment:
    """The QA result of one transcript: one JSON object per transcript in `huashu qa replay --format json`.

    A transcript the engine could not replay has `error` set, `score` None and no findings.
    """

    id: str
    channel: str
    agent: str | None
    flow: str | None
    score: float | None
    findings: tuple[Finding, ...] = ()
    turns: tuple[TurnTag, ...] = ()
    fatal: bool = False
    error: str | None = None
    versions: Mapping[str, str] = field(default_factory=dict)  # content and rules digests
    source: str | None = None  # the file (and line) it came from
    rating: Mapping[str, Any] | None = None  # the customer's rating, when the transcript carries one

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "channel": self.channel,
            "agent": self.agent,
            "flow": self.flow,
            "score": self.score,
            "fatal": self.fatal,
            "findings": [f.to_dict() for f in self.findings],
            "turns": [t.to_dict() for t in self.turns],
            "versions": dict(self.versions),
        }
        if self.source is not None:
            data["source"] = self.source
        if self.error is not None:
            data["error"] = self.error
        if self.rating is not None:
            data["rating"] = dict(self.rating)
        return data


@dataclass(frozen=True, slots=True)
class InputError:
    """An input line that was skipped (bad JSON, missing field, bad TSV row), with where it came from."""

    source: str
    line: int
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.message, "source": self.source, "line": self.line}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
