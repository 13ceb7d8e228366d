"""`MemoryTranscriptStore`: the in-memory twin of the SQL store, with the same contract.

Used by tests and `huashu chat`. Every write is validated and JSON-copied exactly as the SQL
store does it, and every read hands out copies, so code that works here works on a database.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from app.aftercare.complaints import ComplaintRecord
from app.aftercare.records import COMMITMENT_STATUSES, Commitment, CommitmentStatus, Rating
from app.errors import (
    ConversationExists,
    ConversationNotFound,
    RecordConflict,
    RecordNotFound,
    SeqConflict,
    StorageError,
)
from app.storage.models import (
    ConversationSnapshot,
    NewConversation,
    NewMessage,
    StoredConversation,
    StoredMessage,
    as_utc,
    demo_order_row,
    json_copy,
    utc_now,
)
from app.storage.store import DEFAULT_PAGE_SIZE, StoreStats, check_page


class MemoryTranscriptStore:
    """A `TranscriptStore` in plain dicts; one asyncio loop, no persistence."""

    def __init__(self, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.stats = StoreStats()
        self._clock = clock
        self._state = "new"  # new -> open -> closed, like the SQL store
        self._conversations: dict[str, StoredConversation] = {}
        self._messages: dict[str, list[StoredMessage]] = {}
        self._by_client_id: dict[tuple[str, str], StoredMessage] = {}
        self._orders: dict[str, dict[str, str]] = {}
        self._ratings: dict[str, Rating] = {}
        self._commitments: dict[str, Commitment] = {}
        self._complaints: dict[str, ComplaintRecord] = {}

    async def open(self) -> None:
        if self._state == "closed":
            raise StorageError("store is closed; create a new one")
        self._state = "open"

    async def close(self) -> None:
        self._state = "closed"

    def _check_open(self) -> None:
        if self._state != "open":
            raise StorageError(f"store is {self._state}, not open")

    def _commit(self) -> None:
        # Each write is its own "transaction" here; counted so `stats` means the same in both stores.
        self.stats.commits += 1
        self.stats.items += 1
        self.stats.max_batch = max(self.stats.max_batch, 1)

    def _conversation(self, conversation_id: str) -> StoredConversation:
        try:
            return self._conversations[conversation_id]
        except KeyError:
            raise ConversationNotFound(conversation_id) from None

    async def create_conversation(self, conv: NewConversation) -> None:
        self._check_open()
        slots = json_copy(conv.slots, "slots")
        counters = json_copy(conv.counters, "counters")
        customer = json_copy(conv.customer, "customer")
        if conv.id in self._conversations:
            raise ConversationExists(f"conversation {conv.id!r} already exists")
        created_at = as_utc(conv.created_at, "created_at")
        self._conversations[conv.id] = StoredConversation(
            id=conv.id,
            flow=conv.flow,
            flow_version=conv.flow_version,
            channel=conv.channel,
            mode=conv.mode,
            state=conv.state,
            slots=slots,
            counters=counters,
            customer=customer,
            token_hash=conv.token_hash,
            agent=conv.agent,
            created_at=created_at,
            updated_at=created_at,
            ended_at=None,
        )
        self._messages[conv.id] = []
        self._commit()

    async def append(
        self,
        conversation_id: str,
        messages: Sequence[NewMessage],
        snapshot: ConversationSnapshot | None = None,
        *,
        expected_last_seq: int | None = None,
    ) -> list[StoredMessage]:
        self._check_open()
        prepared = [
            (m, json_copy(m.suggestions, "suggestions"), json_copy(m.events, "events")) for m in messages
        ]
        snap_json = None
        if snapshot is not None:
            snap_json = (json_copy(snapshot.slots, "slots"), json_copy(snapshot.counters, "counters"))
        conv = self._conversation(conversation_id)
        log = self._messages[conversation_id]
        if expected_last_seq is not None and len(log) != expected_last_seq:
            raise SeqConflict(conversation_id, expected_last_seq, len(log))
        now = as_utc(self._clock(), "clock")
        result: list[StoredMessage] = []
        for message, suggestions, events in prepared:
            key = (conversation_id, message.client_message_id or "")
            existing = self._by_client_id.get(key) if message.client_message_id else None
            if existing is not None:
                result.append(replace(copy.deepcopy(existing), duplicate=True))
                continue
            stored = StoredMessage.of(
                message, conversation_id=conversation_id, seq=len(log) + 1, stored_at=now,
                suggestions=suggestions, events=events, created_at=as_utc(message.created_at, "created_at"),
            )
            log.append(stored)
            if message.client_message_id:
                self._by_client_id[key] = stored
            result.append(copy.deepcopy(stored))
        if (
            snapshot is not None
            and snap_json is not None
            and (not messages or any(not m.duplicate for m in result))
        ):
            self._conversations[conversation_id] = replace(
                conv,
                state=snapshot.state,
                slots=snap_json[0],
                counters=snap_json[1],
                mode=snapshot.mode,
                agent=snapshot.agent,
                ended_at=as_utc(snapshot.ended_at, "ended_at") if snapshot.ended_at is not None else None,
                updated_at=now,
            )
        self._commit()
        return result

    async def get_conversation(self, conversation_id: str) -> StoredConversation:
        self._check_open()
        return copy.deepcopy(self._conversation(conversation_id))

    async def messages(self, conversation_id: str, after_seq: int = 0, limit: int | None = None) -> list[StoredMessage]:
        self._check_open()
        self._conversation(conversation_id)
        # seq == index + 1, so the slice is exactly "seq > after_seq".
        start = max(after_seq, 0)
        return copy.deepcopy(self._messages[conversation_id][start : None if limit is None else start + limit])

    async def find_message(self, conversation_id: str, client_message_id: str) -> StoredMessage | None:
        self._check_open()
        self._conversation(conversation_id)
        found = self._by_client_id.get((conversation_id, client_message_id))
        return copy.deepcopy(found)

    async def list_conversations(
        self,
        *,
        state: str | None = None,
        flow: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        offset: int = 0,
    ) -> tuple[list[StoredConversation], int]:
        self._check_open()
        check_page(limit, offset)
        since_utc = as_utc(since, "since") if since is not None else None
        until_utc = as_utc(until, "until") if until is not None else None
        matching = [
            c
            for c in self._conversations.values()
            if (state is None or c.state == state)
            and (flow is None or c.flow == flow)
            and (since_utc is None or c.created_at >= since_utc)
            and (until_utc is None or c.created_at < until_utc)
        ]
        matching.sort(key=lambda c: (c.created_at, c.id), reverse=True)
        return copy.deepcopy(matching[offset : offset + limit]), len(matching)

    async def upsert_demo_orders(self, rows: Sequence[dict[str, Any]]) -> None:
        self._check_open()
        checked = [demo_order_row(row) for row in rows]
        for row in checked:
            self._orders[row["order_id"]] = row
        self._commit()

    async def demo_order(self, order_id: str) -> dict[str, str] | None:
        self._check_open()
        found = self._orders.get(order_id)
        return dict(found) if found is not None else None

    # -- aftercare ---------------------------------------------------------------------------------
    # The records are frozen dataclasses (tuples inside), so handing them out needs no copies.

    async def save_rating(self, rating: Rating) -> None:
        self._check_open()
        self._conversation(rating.conversation_id)
        self._ratings[rating.conversation_id] = replace(rating, at=as_utc(rating.at, "at"))
        self._commit()

    async def rating(self, conversation_id: str) -> Rating | None:
        self._check_open()
        return self._ratings.get(conversation_id)

    async def ratings(self, *, since: datetime | None = None, until: datetime | None = None) -> list[Rating]:
        self._check_open()
        return sorted(
            (r for r in self._ratings.values() if (since is None or r.at >= since) and (until is None or r.at < until)),
            key=lambda r: (r.at, r.conversation_id),
        )

    async def add_commitments(self, commitments: Sequence[Commitment]) -> None:
        self._check_open()
        for commitment in commitments:
            self._conversation(commitment.conversation_id)
        for commitment in commitments:
            self._commitments.setdefault(commitment.id, commitment)
        self._commit()

    async def commitments(
        self,
        *,
        now: datetime,
        status: CommitmentStatus | None = None,
        conversation_id: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        offset: int = 0,
    ) -> list[Commitment]:
        self._check_open()
        check_page(limit, offset)
        matching = sorted(
            (
                c
                for c in self._commitments.values()
                if (status is None or c.status(now) == status)
                and (conversation_id is None or c.conversation_id == conversation_id)
            ),
            key=lambda c: (c.due_at, c.id),
        )
        return matching[offset : offset + limit]

    async def commitment_counts(self, *, now: datetime) -> dict[str, int]:
        self._check_open()
        counts = dict.fromkeys(COMMITMENT_STATUSES, 0)
        for commitment in self._commitments.values():
            counts[commitment.status(now)] += 1
        return counts

    async def complete_commitment(self, commitment_id: str, *, by: str, at: datetime) -> Commitment:
        self._check_open()
        found = self._commitments.get(commitment_id)
        if found is None:
            raise RecordNotFound(f"no commitment {commitment_id!r}")
        if found.done_at is None:
            found = self._commitments[commitment_id] = found.completed(by, as_utc(at, "at"))
            self._commit()
        return found

    async def add_complaint(self, record: ComplaintRecord) -> ComplaintRecord:
        self._check_open()
        self._conversation(record.conversation_id)
        existing = next((c for c in self._complaints.values() if c.conversation_id == record.conversation_id), None)
        if existing is not None:
            return existing
        json_copy(record.to_dict(), "complaint")  # refused here exactly when the database would refuse it
        self._complaints[record.id] = record
        self._commit()
        return record

    async def complaint(self, complaint_id: str) -> ComplaintRecord:
        self._check_open()
        found = self._complaints.get(complaint_id)
        if found is None:
            raise RecordNotFound(f"no complaint record {complaint_id!r}")
        return found

    async def complaint_for(self, conversation_id: str) -> ComplaintRecord | None:
        self._check_open()
        return next((c for c in self._complaints.values() if c.conversation_id == conversation_id), None)

    async def complaints(
        self, *, status: str | None = None, limit: int = DEFAULT_PAGE_SIZE, offset: int = 0
    ) -> list[ComplaintRecord]:
        self._check_open()
        check_page(limit, offset)
        matching = sorted(
            (c for c in self._complaints.values() if status is None or c.status == status),
            key=lambda c: (c.created_at, c.id),
            reverse=True,
        )
        return matching[offset : offset + limit]

    async def update_complaint(self, record: ComplaintRecord, *, expected_version: int) -> None:
        self._check_open()
        stored = await self.complaint(record.id)
        if stored.version != expected_version:
            raise RecordConflict(
                f"complaint record {record.id!r} is at version {stored.version}, not {expected_version}: read it again"
            )
        json_copy(record.to_dict(), "complaint")
        self._complaints[record.id] = record
        self._commit()
