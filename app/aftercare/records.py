"""The aftercare records as the rest of Huashu sees them: a rating and a commitment.

Plain frozen dataclasses with a JSON form; the stores keep them, the API shows `to_dict()`.
The complaint record, which has a process of its own, is in `complaints.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Final, Literal

SCORES: Final = range(1, 6)
CommitmentStatus = Literal["open", "overdue", "done"]
COMMITMENT_STATUSES: Final[tuple[str, ...]] = ("open", "overdue", "done")
# Where a commitment was read from: a phrasing of the collection, a person's own words, or the
# promise the script makes when a fulfilment action could not answer in time.
COMMITMENT_SOURCES: Final[tuple[str, ...]] = ("phrase", "free_text", "action_timeout")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class Rating:
    """A customer's satisfaction rating of one conversation (the latest one counts), with what it is
    aggregated by: the conversation's flow, channel and agent (None: the bot) and its topic intent."""

    conversation_id: str
    score: int
    comment: str
    at: datetime
    channel: str
    flow: str
    agent: str | None
    intent: str

    def __post_init__(self) -> None:
        if self.score not in SCORES:
            raise ValueError(f"score must be 1–5, got {self.score!r}")

    def to_dict(self) -> dict[str, Any]:
        """The wire form of `GET /api/conversations/{id}`'s `rating` and of exports."""
        return {"score": self.score, "comment": self.comment, "at": _iso(self.at)}


@dataclass(frozen=True)
class Commitment:
    """Something the bot or an agent promised a customer, with a time: what, for whom, due when.

    `id` is derived from where it was said (conversation, message seq, its place in the message), so
    reading the same message twice records it once.
    """

    id: str
    conversation_id: str
    seq: int
    what: str
    customer: str  # for whom: the customer's name when known, else the conversation's customer id
    promised_by: str  # the agent's name, or "bot"
    source: str  # one of COMMITMENT_SOURCES
    phrase_id: str | None
    window: str  # the time as said ("24小时内")
    made_at: datetime
    due_at: datetime
    done_at: datetime | None = None
    done_by: str | None = None

    @staticmethod
    def make_id(conversation_id: str, seq: int, index: int) -> str:
        return f"{conversation_id}-{seq}-{index}"

    def status(self, now: datetime) -> CommitmentStatus:
        """`done` once marked so; `overdue` when still open past its due time; `open` otherwise."""
        if self.done_at is not None:
            return "done"
        return "overdue" if now > self.due_at else "open"

    def completed(self, by: str, at: datetime) -> Commitment:
        return replace(self, done_by=by, done_at=at)

    def to_dict(self, now: datetime) -> dict[str, Any]:
        return {
            "id": self.id,
            "conversation_id": self.conversation_id,
            "seq": self.seq,
            "what": self.what,
            "customer": self.customer,
            "promised_by": self.promised_by,
            "source": self.source,
            "phrase_id": self.phrase_id,
            "window": self.window,
            "made_at": _iso(self.made_at),
            "due_at": _iso(self.due_at),
            "status": self.status(now),
            "done_at": _iso(self.done_at),
            "done_by": self.done_by,
        }


def summarise_ratings(ratings: Sequence[Rating], *, day_of: Callable[[datetime], date]) -> dict[str, Any]:
    """Ratings aggregated overall and by agent, flow, intent and day (`day_of` puts a time in the
    business's day). CSAT is the share of 4s and 5s, the usual definition."""

    def group(key: Callable[[Rating], str]) -> list[dict[str, Any]]:
        groups: dict[str, list[int]] = {}
        for rating in ratings:
            groups.setdefault(key(rating), []).append(rating.score)
        return [{"key": name, **_figures(scores)} for name, scores in sorted(groups.items())]

    return {
        **_figures([r.score for r in ratings]),
        "by_agent": group(lambda r: r.agent or "bot"),
        "by_flow": group(lambda r: r.flow),
        "by_intent": group(lambda r: r.intent),
        "by_channel": group(lambda r: r.channel),
        "by_day": group(lambda r: day_of(r.at).isoformat()),
    }


def _figures(scores: Sequence[int]) -> dict[str, Any]:
    count = len(scores)
    return {
        "count": count,
        "average": round(sum(scores) / count, 2) if count else None,
        "csat": round(sum(1 for s in scores if s >= 4) / count, 4) if count else None,
        "scores": {str(s): scores.count(s) for s in SCORES},
    }
