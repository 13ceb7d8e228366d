"""The complaint record follows the seed's process (003 客户投诉处理流程): received → recorded → investigating →
resolved → feedback_given, one step at a time and only with the facts each step needs; then a return visit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.aftercare.complaints import (
    COMPLAINT_STATUSES,
    ComplaintRecord,
    TransitionRefused,
    record_return_visit,
    schedule_return_visit,
    transition,
)

T0 = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)


def received(**facts: object) -> ComplaintRecord:
    record = ComplaintRecord.received(id="cp-1", conversation_id="conv-1", at=T0, channel="online",
                                      people=("王女士",), description="送货师傅把地板刮坏了")
    return ComplaintRecord(**{**record.__dict__, **facts})


def walk(record: ComplaintRecord, *steps: tuple[str, dict[str, object]]) -> ComplaintRecord:
    for minutes, (status, facts) in enumerate(steps, start=1):
        record = transition(record, status, by="alice", at=T0 + timedelta(minutes=minutes), facts=facts)
    return record


def test_the_status_names_are_the_contract() -> None:
    assert COMPLAINT_STATUSES == ("received", "recorded", "investigating", "resolved", "feedback_given")


def test_a_complaint_walks_the_whole_process_with_a_timeline() -> None:
    done = walk(received(), ("recorded", {}), ("investigating", {}), ("resolved", {"resolution": "上门修复并补偿"}),
                ("feedback_given", {"customer_feedback": "满意"}))

    assert done.status == "feedback_given" and done.version == 5
    assert [(e.status, e.by) for e in done.timeline] == [
        ("received", "system"), ("recorded", "alice"), ("investigating", "alice"), ("resolved", "alice"),
        ("feedback_given", "alice")]
    assert ComplaintRecord.from_dict(done.to_dict()) == done  # what the stores keep


@pytest.mark.parametrize(("start", "to", "says"), [
    ("received", "investigating", "the next status is 'recorded'"),
    ("received", "resolved", "the next status is 'recorded'"),
    ("recorded", "received", "the next status is 'investigating'"),  # no way back
    ("feedback_given", "feedback_given", "it is closed"),
    ("received", "closed", "unknown status 'closed'"),
])
def test_a_step_out_of_order_is_refused_and_changes_nothing(start: str, to: str, says: str) -> None:
    record = received(status=start)

    with pytest.raises(TransitionRefused, match=says):
        transition(record, to, by="alice", at=T0)
    assert record.status == start


@pytest.mark.parametrize(("record", "to", "missing"), [
    (received(description=None), "recorded", "description"),
    (received(people=(), occurred_at=None), "recorded", "occurred_at, people"),
    (received(status="investigating"), "resolved", "resolution"),
    (received(status="resolved", resolution="已补偿"), "feedback_given", "customer_feedback"),
])
def test_each_step_needs_its_facts(record: ComplaintRecord, to: str, missing: str) -> None:
    with pytest.raises(TransitionRefused, match=f"needs: {missing}$"):
        transition(record, to, by="alice", at=T0)


def test_facts_given_with_the_step_are_checked() -> None:
    with pytest.raises(TransitionRefused, match="unknown fields"):
        transition(received(), "recorded", by="alice", at=T0, facts={"priority": "high"})
    with pytest.raises(TransitionRefused, match="people must be a list"):
        transition(received(), "recorded", by="alice", at=T0, facts={"people": "王女士"})
    with pytest.raises(TransitionRefused, match="occurred_at"):
        transition(received(), "recorded", by="alice", at=T0, facts={"occurred_at": datetime(2026, 12, 1)})


def test_a_return_visit_follows_the_resolution_and_records_its_outcome() -> None:
    with pytest.raises(TransitionRefused, match="follows the resolution"):
        schedule_return_visit(received(), due_at=T0 + timedelta(days=3), by="alice", at=T0)
    resolved = received(status="resolved", resolution="已补偿")
    with pytest.raises(TransitionRefused, match="no return visit is scheduled"):
        record_return_visit(resolved, outcome="满意", satisfied=True, by="bob", at=T0)

    planned = schedule_return_visit(resolved, due_at=T0 + timedelta(days=3), by="alice", at=T0)
    visited = record_return_visit(planned, outcome="客户表示问题已解决", satisfied=True, by="bob",
                                  at=T0 + timedelta(days=3))

    (visit,) = visited.return_visits
    assert (visit.outcome, visit.satisfied, visit.done_by, visit.scheduled_by) == ("客户表示问题已解决", True, "bob", "alice")
    assert visited.status == "resolved" and visited.version == resolved.version + 2
