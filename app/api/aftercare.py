"""REST: after the chat (docs/aftercare.md). Agent credentials throughout.

- `GET /api/ratings/summary`: satisfaction ratings aggregated by agent, flow, intent, channel and day;
- `GET /api/commitments?status=open|overdue|done`, `POST /api/commitments/{id}/done`;
- `GET /api/complaints?status=`, `GET /api/complaints/{id}`, `POST /api/complaints/{id}/transition`,
  and the return visit: `POST /api/complaints/{id}/return-visits` (schedule) and
  `POST /api/complaints/{id}/return-visits/outcome` (record what the customer said).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from app.aftercare.complaints import (
    COMPLAINT_STATUSES,
    ComplaintRecord,
    record_return_visit,
    schedule_return_visit,
    transition,
)
from app.aftercare.records import summarise_ratings
from app.api.deps import AgentDep, Services, ServicesDep
from app.api.inputs import utc

router = APIRouter(tags=["aftercare"])
MAX_PAGE = 200
ComplaintStatus = Literal["received", "recorded", "investigating", "resolved", "feedback_given"]
assert set(ComplaintStatus.__args__) == set(COMPLAINT_STATUSES)  # type: ignore[attr-defined]  # one vocabulary


def _now(services: Services) -> datetime:
    return services.conversations.clock()


# ---------------------------------------------------------------- ratings


@router.get("/api/ratings/summary")
async def ratings_summary(
    services: ServicesDep,
    agent: AgentDep,
    since: Annotated[datetime | None, Query(description="rated at or after (ISO 8601; naive = UTC)")] = None,
    until: Annotated[datetime | None, Query(description="rated before")] = None,
) -> dict[str, Any]:
    """`count`, `average`, `csat` (share of 4 and 5) and `scores`, overall and `by_agent`, `by_flow`,
    `by_intent`, `by_channel`, `by_day` (the pack's business day, `timezone` of its commitment rules)."""
    ratings = await services.store.ratings(since=utc(since), until=utc(until))
    zone = services.engine.content.business_zone
    return summarise_ratings(ratings, day_of=lambda at: at.astimezone(zone).date())


# ---------------------------------------------------------------- commitments


class CommitmentPage(BaseModel):
    items: list[dict[str, Any]]
    now: datetime = Field(description="the time `status` was judged at")


@router.get("/api/commitments")
async def list_commitments(
    services: ServicesDep,
    agent: AgentDep,
    status: Literal["open", "overdue", "done"] | None = None,
    conversation_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> CommitmentPage:
    """Promises made to customers, earliest due first: `open` (not yet due), `overdue`, `done`."""
    now = _now(services)
    items = await services.store.commitments(now=now, status=status, conversation_id=conversation_id,
                                             limit=limit, offset=offset)
    return CommitmentPage(items=[c.to_dict(now) for c in items], now=now)


@router.post("/api/commitments/{commitment_id}/done")
async def complete_commitment(commitment_id: str, services: ServicesDep, agent: AgentDep) -> dict[str, Any]:
    """Mark a promise kept, recording who and when (the first to mark it stays on record)."""
    now = _now(services)
    done = await services.store.complete_commitment(commitment_id, by=agent, at=now)
    return done.to_dict(now)


# ---------------------------------------------------------------- complaint records


class ComplaintPage(BaseModel):
    items: list[dict[str, Any]]


class TransitionRequest(BaseModel):
    """Move a complaint record to its next status, adding the facts that status needs."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"to": "recorded", "people": ["王女士", "配送员李师傅"], "note": "已电话核实"},
        {"to": "resolved", "resolution": "上门修复地板划痕,并补偿50元优惠券"},
    ]})
    to: ComplaintStatus
    note: str = Field(default="", max_length=2000)
    occurred_at: datetime | None = None
    channel: str | None = Field(default=None, max_length=64)
    people: list[Annotated[str, Field(max_length=128)]] | None = Field(default=None, max_length=50)
    description: str | None = Field(default=None, max_length=5000)
    resolution: str | None = Field(default=None, max_length=5000)
    customer_feedback: str | None = Field(default=None, max_length=5000)


class ReturnVisitRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    due_at: datetime = Field(description="when to call the customer back (ISO 8601; naive = UTC)")


class ReturnVisitOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: str = Field(min_length=1, max_length=5000)
    satisfied: bool | None = None


@router.get("/api/complaints")
async def list_complaints(
    services: ServicesDep,
    agent: AgentDep,
    status: ComplaintStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> ComplaintPage:
    """Complaint records, newest first, each `{"id", "conversation_id", "status", …, "timeline"}`."""
    items = await services.store.complaints(status=status, limit=limit, offset=offset)
    return ComplaintPage(items=[c.to_dict() for c in items])


@router.get("/api/complaints/{complaint_id}")
async def get_complaint(complaint_id: str, services: ServicesDep, agent: AgentDep) -> dict[str, Any]:
    return (await services.store.complaint(complaint_id)).to_dict()


@router.post("/api/complaints/{complaint_id}/transition")
async def move_complaint(complaint_id: str, body: TransitionRequest, services: ServicesDep,
                         agent: AgentDep) -> dict[str, Any]:
    """One step of the complaint process; 409 `transition_refused` names what is wrong (a step out of
    order, a missing fact), 409 `conflict` when someone changed the record meanwhile."""
    facts = body.model_dump(exclude={"to", "note"}, exclude_none=True)
    if "occurred_at" in facts:
        facts["occurred_at"] = utc(facts["occurred_at"])
    record = await services.store.complaint(complaint_id)
    moved = transition(record, body.to, by=agent, at=_now(services), facts=facts, note=body.note)
    return await _save(services, record, moved)


@router.post("/api/complaints/{complaint_id}/return-visits")
async def plan_return_visit(complaint_id: str, body: ReturnVisitRequest, services: ServicesDep,
                            agent: AgentDep) -> dict[str, Any]:
    """Schedule a return visit (回访) of a resolved complaint."""
    record = await services.store.complaint(complaint_id)
    planned = schedule_return_visit(record, due_at=utc(body.due_at), by=agent, at=_now(services))
    return await _save(services, record, planned)


@router.post("/api/complaints/{complaint_id}/return-visits/outcome")
async def close_return_visit(complaint_id: str, body: ReturnVisitOutcome, services: ServicesDep,
                             agent: AgentDep) -> dict[str, Any]:
    """Record the outcome of the earliest open return visit."""
    record = await services.store.complaint(complaint_id)
    done = record_return_visit(record, outcome=body.outcome, satisfied=body.satisfied, by=agent, at=_now(services))
    return await _save(services, record, done)


async def _save(services: Services, before: ComplaintRecord, after: ComplaintRecord) -> dict[str, Any]:
    await services.store.update_complaint(after, expected_version=before.version)
    return after.to_dict()
