"""The complaint record: the seed's process (received → recorded → investigating → resolved →
feedback_given, seed 003 客户投诉处理流程) as a pytransitions machine, with the facts each step needs.

Pure: a transition takes a record and returns the next one, or raises `TransitionRefused` naming
what is wrong (a step out of order, a missing fact). The store keeps records; the API moves them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final

from transitions import Machine, MachineError

from app.errors import HuashuError

# A contract (issue 14, docs/aftercare.md): integrators filter and move records by these names.
COMPLAINT_STATUSES: Final[tuple[str, ...]] = ("received", "recorded", "investigating", "resolved", "feedback_given")
# The facts a record must hold to enter a status (seed 003: time, channel, people involved, description;
# then the resolution; then the customer's feedback).
REQUIRED_FACTS: Final[Mapping[str, tuple[str, ...]]] = {
    "recorded": ("occurred_at", "channel", "people", "description"),
    "investigating": (),
    "resolved": ("resolution",),
    "feedback_given": ("customer_feedback",),
}
FACTS: Final[tuple[str, ...]] = ("occurred_at", "channel", "people", "description", "resolution", "customer_feedback")
# A return visit (回访) follows a resolution.
RETURN_VISIT_STATUSES: Final = frozenset({"resolved", "feedback_given"})


class TransitionRefused(HuashuError):
    """A complaint record cannot take this step; the message says why."""


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    by: str
    status: str  # the status entered (or kept, for a return visit)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "by": self.by, "status": self.status, "note": self.note}


@dataclass(frozen=True)
class ReturnVisit:
    """A scheduled call-back to check the customer is satisfied with the resolution (回访)."""

    due_at: datetime
    scheduled_by: str
    scheduled_at: datetime
    outcome: str | None = None
    satisfied: bool | None = None
    done_by: str | None = None
    done_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "due_at": self.due_at.isoformat(),
            "scheduled_by": self.scheduled_by,
            "scheduled_at": self.scheduled_at.isoformat(),
            "outcome": self.outcome,
            "satisfied": self.satisfied,
            "done_by": self.done_by,
            "done_at": self.done_at.isoformat() if self.done_at else None,
        }


@dataclass(frozen=True)
class ComplaintRecord:
    id: str
    conversation_id: str
    status: str
    created_at: datetime
    updated_at: datetime
    occurred_at: datetime | None = None
    channel: str | None = None
    people: tuple[str, ...] = ()
    description: str | None = None
    resolution: str | None = None
    customer_feedback: str | None = None
    timeline: tuple[TimelineEntry, ...] = ()
    return_visits: tuple[ReturnVisit, ...] = ()
    version: int = 1  # bumped by every change: the store refuses a change made on an older copy

    @classmethod
    def received(cls, *, id: str, conversation_id: str, at: datetime, channel: str, people: tuple[str, ...],
                 description: str, by: str = "system") -> ComplaintRecord:
        """A record opened by a complaint in a conversation, with the facts the conversation gives."""
        return cls(
            id=id, conversation_id=conversation_id, status="received", created_at=at, updated_at=at,
            occurred_at=at, channel=channel, people=people, description=description,
            timeline=(TimelineEntry(at, by, "received"),),
        )

    def missing_for(self, status: str) -> list[str]:
        return [name for name in REQUIRED_FACTS.get(status, ()) if not getattr(self, name)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "conversation_id": self.conversation_id,
            "status": self.status,
            "occurred_at": self.occurred_at.isoformat() if self.occurred_at else None,
            "channel": self.channel,
            "people": list(self.people),
            "description": self.description,
            "resolution": self.resolution,
            "customer_feedback": self.customer_feedback,
            "timeline": [entry.to_dict() for entry in self.timeline],
            "return_visits": [visit.to_dict() for visit in self.return_visits],
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "version": self.version,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ComplaintRecord:
        """The inverse of `to_dict` (the stores keep that form)."""

        def when(value: Any) -> datetime | None:
            return datetime.fromisoformat(value) if isinstance(value, str) else None

        return cls(
            id=data["id"],
            conversation_id=data["conversation_id"],
            status=data["status"],
            occurred_at=when(data.get("occurred_at")),
            channel=data.get("channel"),
            people=tuple(data.get("people") or ()),
            description=data.get("description"),
            resolution=data.get("resolution"),
            customer_feedback=data.get("customer_feedback"),
            timeline=tuple(
                TimelineEntry(datetime.fromisoformat(e["at"]), e["by"], e["status"], e.get("note", ""))
                for e in data.get("timeline") or ()
            ),
            return_visits=tuple(
                ReturnVisit(
                    due_at=datetime.fromisoformat(v["due_at"]), scheduled_by=v["scheduled_by"],
                    scheduled_at=datetime.fromisoformat(v["scheduled_at"]), outcome=v.get("outcome"),
                    satisfied=v.get("satisfied"), done_by=v.get("done_by"), done_at=when(v.get("done_at")),
                )
                for v in data.get("return_visits") or ()
            ),
            created_at=datetime.fromisoformat(data["created_at"]),
            updated_at=datetime.fromisoformat(data["updated_at"]),
            version=int(data.get("version", 1)),
        )


class _Cursor:
    """What the machine moves: a record's status, and the record the step would produce (for conditions)."""

    def __init__(self, status: str, record: ComplaintRecord) -> None:
        self.state = status
        self.record = record

    def has_required_facts(self, event: Any) -> bool:
        return not self.record.missing_for(event.transition.dest)


# One machine for every record (records are not models registered with it: a cursor per step is).
# Each step goes to the next status only, and only with the facts that status needs.
_MACHINE = Machine(
    model=None,
    states=list(COMPLAINT_STATUSES),
    transitions=[
        {"trigger": f"to_{dest}", "source": source, "dest": dest, "conditions": "has_required_facts"}
        for source, dest in zip(COMPLAINT_STATUSES, COMPLAINT_STATUSES[1:], strict=False)
    ],
    initial=COMPLAINT_STATUSES[0],
    auto_transitions=False,
    send_event=True,
)


def next_status(status: str) -> str | None:
    index = COMPLAINT_STATUSES.index(status)
    return COMPLAINT_STATUSES[index + 1] if index + 1 < len(COMPLAINT_STATUSES) else None


def transition(record: ComplaintRecord, to: str, *, by: str, at: datetime, facts: Mapping[str, Any] | None = None,
               note: str = "") -> ComplaintRecord:
    """`record` moved to status `to`, with `facts` (any of FACTS) added first; raises `TransitionRefused`."""
    if to not in COMPLAINT_STATUSES:
        raise TransitionRefused(f"unknown status {to!r}; statuses are: {', '.join(COMPLAINT_STATUSES)}")
    unknown = sorted(set(facts or {}) - set(FACTS))
    if unknown:
        raise TransitionRefused(f"unknown fields {unknown}; a complaint record holds: {', '.join(FACTS)}")
    changed = replace(record, **_checked_facts(facts or {}))
    cursor = _Cursor(record.status, changed)
    _MACHINE.add_model(cursor, initial=record.status)
    try:
        moved = cursor.trigger(f"to_{to}")  # type: ignore[attr-defined]
    except (MachineError, AttributeError):  # no such step from here (AttributeError: no step into `to` at all)
        expected = next_status(record.status)
        then = f"the next status is {expected!r}" if expected else "it is closed"
        raise TransitionRefused(f"a complaint that is {record.status!r} cannot become {to!r}: {then}") from None
    finally:
        _MACHINE.remove_model(cursor)
    if not moved:
        missing = changed.missing_for(to)
        raise TransitionRefused(f"to become {to!r} the record needs: {', '.join(missing)}")
    return replace(changed, status=to, updated_at=at, version=record.version + 1,
                   timeline=(*changed.timeline, TimelineEntry(at, by, to, note)))


def schedule_return_visit(record: ComplaintRecord, *, due_at: datetime, by: str, at: datetime) -> ComplaintRecord:
    """Plan a return visit (回访); only a resolved complaint gets one."""
    if record.status not in RETURN_VISIT_STATUSES:
        raise TransitionRefused(f"a return visit follows the resolution; this complaint is {record.status!r}")
    visit = ReturnVisit(due_at=due_at, scheduled_by=by, scheduled_at=at)
    return replace(record, return_visits=(*record.return_visits, visit), updated_at=at, version=record.version + 1,
                   timeline=(*record.timeline, TimelineEntry(at, by, record.status, "return visit scheduled")))


def record_return_visit(record: ComplaintRecord, *, outcome: str, satisfied: bool | None, by: str,
                        at: datetime) -> ComplaintRecord:
    """The outcome of the earliest return visit still open."""
    if not outcome.strip():
        raise TransitionRefused("a return visit's outcome must not be empty")
    visits = list(record.return_visits)
    index = next((i for i, v in enumerate(visits) if v.done_at is None), None)
    if index is None:
        raise TransitionRefused("no return visit is scheduled and open for this complaint")
    visits[index] = replace(visits[index], outcome=outcome, satisfied=satisfied, done_by=by, done_at=at)
    return replace(record, return_visits=tuple(visits), updated_at=at, version=record.version + 1,
                   timeline=(*record.timeline, TimelineEntry(at, by, record.status, "return visit: " + outcome)))


def _checked_facts(facts: Mapping[str, Any]) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    for name, value in facts.items():
        if name == "occurred_at":
            if not isinstance(value, datetime) or value.tzinfo is None:
                raise TransitionRefused("occurred_at must be a time with its zone")
            checked[name] = value
        elif name == "people":
            if not isinstance(value, list | tuple) or not all(isinstance(p, str) and p.strip() for p in value):
                raise TransitionRefused("people must be a list of names")
            checked[name] = tuple(p.strip() for p in value)
        else:
            if not isinstance(value, str) or not value.strip():
                raise TransitionRefused(f"{name} must be a non-empty text")
            checked[name] = value.strip()
    return checked


__all__ = [
    "COMPLAINT_STATUSES",
    "ComplaintRecord",
    "ReturnVisit",
    "TimelineEntry",
    "TransitionRefused",
    "record_return_visit",
    "schedule_return_visit",
    "transition",
]
