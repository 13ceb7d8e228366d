"""The aftercare part of the store contract (ratings, commitments, complaint records) on every backend."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from app.aftercare.complaints import ComplaintRecord, transition
from app.aftercare.records import Commitment, Rating
from app.errors import ConversationNotFound, RecordConflict, RecordNotFound
from app.storage.models import NewConversation
from app.storage.store import TranscriptStore

NewConv = Callable[..., NewConversation]
T0 = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)


def rating(conversation_id: str, score: int, at: datetime = T0, **changes: object) -> Rating:
    values: dict[str, object] = {"comment": "", "channel": "online", "flow": "default", "agent": None,
                                 "intent": "return_refund", **changes}
    return Rating(conversation_id, score, at=at, **values)  # type: ignore[arg-type]


def commitment(conversation_id: str, seq: int, due_in: timedelta, index: int = 0) -> Commitment:
    return Commitment(
        id=Commitment.make_id(conversation_id, seq, index), conversation_id=conversation_id, seq=seq,
        what="我们会在24小时内给您答复", customer="王女士", promised_by="bot", source="phrase",
        phrase_id="promise.reply_time", window="24小时内", made_at=T0, due_at=T0 + due_in,
    )


async def test_a_rating_is_stored_replaced_by_a_later_one_and_listed_by_time(
    store: TranscriptStore, new_conversation: NewConv
) -> None:
    first, second = new_conversation(), new_conversation()
    for conv in (first, second):
        await store.create_conversation(conv)

    await store.save_rating(rating(first.id, 2))
    await store.save_rating(rating(first.id, 4, T0 + timedelta(minutes=1), comment="后来解决了"))
    await store.save_rating(rating(second.id, 5, T0 + timedelta(days=1)))

    assert await store.rating(first.id) == rating(first.id, 4, T0 + timedelta(minutes=1), comment="后来解决了")
    assert [r.score for r in await store.ratings()] == [4, 5]
    assert [r.score for r in await store.ratings(since=T0 + timedelta(hours=1))] == [5]
    assert [r.score for r in await store.ratings(until=T0 + timedelta(days=1))] == [4]  # until is exclusive
    assert await store.rating("no-such-conversation") is None


async def test_a_rating_needs_its_conversation(store: TranscriptStore) -> None:
    with pytest.raises(ConversationNotFound):
        await store.save_rating(rating("no-such-conversation", 3))


async def test_commitments_are_recorded_once_and_listed_by_status_at_a_given_time(
    store: TranscriptStore, new_conversation: NewConv
) -> None:
    conv = new_conversation()
    await store.create_conversation(conv)
    soon, later = commitment(conv.id, 5, timedelta(hours=2)), commitment(conv.id, 9, timedelta(days=3))

    await store.add_commitments([soon, later])
    await store.add_commitments([soon])  # the same message read again

    now = T0 + timedelta(hours=3)
    assert [c.id for c in await store.commitments(now=now)] == [soon.id, later.id]
    assert [c.id for c in await store.commitments(now=now, status="overdue")] == [soon.id]
    assert [c.id for c in await store.commitments(now=now, status="open")] == [later.id]
    assert await store.commitments(now=now, status="done") == []
    assert await store.commitment_counts(now=now) == {"open": 1, "overdue": 1, "done": 0}
    assert [c.id for c in await store.commitments(now=now, conversation_id="other")] == []


async def test_marking_a_commitment_done_records_who_and_when_once(
    store: TranscriptStore, new_conversation: NewConv
) -> None:
    conv = new_conversation()
    await store.create_conversation(conv)
    promise = commitment(conv.id, 5, timedelta(hours=2))
    await store.add_commitments([promise])

    done = await store.complete_commitment(promise.id, by="alice", at=T0 + timedelta(hours=1))
    again = await store.complete_commitment(promise.id, by="bob", at=T0 + timedelta(hours=5))

    assert (done.done_by, done.done_at) == ("alice", T0 + timedelta(hours=1))
    assert again == done  # the first to mark it stays on record
    assert [c.id for c in await store.commitments(now=T0 + timedelta(days=9), status="done")] == [promise.id]
    with pytest.raises(RecordNotFound):
        await store.complete_commitment("nope", by="alice", at=T0)


async def test_a_conversation_opens_one_complaint_record_which_moves_by_version(
    store: TranscriptStore, new_conversation: NewConv
) -> None:
    conv = new_conversation()
    await store.create_conversation(conv)
    record = ComplaintRecord.received(id="cp-1", conversation_id=conv.id, at=T0, channel="online",
                                      people=("王女士",), description="送货师傅把地板刮坏了")

    assert await store.add_complaint(record) == record
    assert await store.add_complaint(ComplaintRecord.received(
        id="cp-2", conversation_id=conv.id, at=T0, channel="online", people=(), description="again")) == record
    recorded = transition(record, "recorded", by="alice", at=T0 + timedelta(minutes=5))
    await store.update_complaint(recorded, expected_version=record.version)

    assert await store.complaint("cp-1") == recorded
    assert await store.complaint_for(conv.id) == recorded
    assert [c.id for c in await store.complaints(status="recorded")] == ["cp-1"]
    assert await store.complaints(status="received") == []
    with pytest.raises(RecordConflict, match="at version 2, not 1"):
        await store.update_complaint(transition(record, "recorded", by="bob", at=T0), expected_version=1)
    with pytest.raises(RecordNotFound):
        await store.complaint("nope")
