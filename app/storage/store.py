"""The seam: `TranscriptStore`, which the SQL store and its in-memory twin both implement.

Durability and idempotency contract of `append` (the whole service relies on it):

* it returns only after the messages are committed durably;
* it gives each new message the next `seq` of its conversation (1, 2, 3, … with no gaps);
* a message whose `client_message_id` is already stored in that conversation (earlier, or
  earlier in the same call) is not stored again: the stored one comes back with
  `duplicate=True`;
* the optional snapshot updates the conversation row in the same transaction as the
  messages, unless every message of the call was a duplicate: a replayed call changes
  nothing, so a late resend cannot roll the conversation back to an older state;
* an unknown conversation raises `ConversationNotFound`;
* with `expected_last_seq`, the append is conditional: if the conversation's last `seq` is not
  that number (another writer appended since the caller read it), nothing is written and
  `SeqConflict` is raised with the actual last seq. Several service workers may drive one
  conversation; this is how a turn stepped on an out-of-date copy is refused instead of stored.

The JSON columns (`suggestions`, `events`, slots…) must hold JSON-native values: lists rather
than tuples, string keys (what `Event.to_dict` produces). A value JSON cannot encode is refused
with `StorageError`; the messages `append` returns carry values equal to those given, which a
later read returns equal too. The SQL store hands back the given values themselves (decoding them
back from the text just encoded was ~9% of the event loop's samples of a turn in a profile); the
memory store, which must keep its own copies, returns copies.

`tests/storage/test_store_contract.py` is the executable form of this contract.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from app.aftercare.complaints import ComplaintRecord
from app.aftercare.records import Commitment, CommitmentStatus, Rating
from app.storage.models import (
    ConversationSnapshot,
    NewConversation,
    NewMessage,
    StoredConversation,
    StoredMessage,
)

DEFAULT_PAGE_SIZE = 50


@dataclass
class StoreStats:
    """Write counters; `commits < items` under concurrency is group commit at work."""

    commits: int = 0  # transactions committed
    items: int = 0  # writes (appends, creates, upserts) that went through those commits
    max_batch: int = 0  # most writes that shared one commit
    failed_commits: int = 0
    checkpoints: int = 0  # SQLite: background WAL checkpoints that found frames to copy
    commit_seconds: float = 0.0  # time spent in committed transactions, in all (commit latency = this / commits)


@runtime_checkable
class TranscriptStore(Protocol):
    """Where conversations and their append-only message log live."""

    stats: StoreStats

    async def open(self) -> None:
        """Acquire resources; raises `StorageError` when the backend is unreachable."""

    async def close(self) -> None:
        """Finish every accepted write, then release resources. Later calls raise `StorageError`."""

    async def create_conversation(self, conv: NewConversation) -> None:
        """Store a new conversation; raises `ConversationExists` if the id is taken."""

    async def append(
        self,
        conversation_id: str,
        messages: Sequence[NewMessage],
        snapshot: ConversationSnapshot | None = None,
        *,
        expected_last_seq: int | None = None,
    ) -> list[StoredMessage]:
        """Append messages (and apply `snapshot`) atomically, if the conversation is still at
        `expected_last_seq` (when given); see the module docstring."""
        ...

    async def get_conversation(self, conversation_id: str) -> StoredConversation:
        """The conversation; raises `ConversationNotFound`."""
        ...

    async def messages(self, conversation_id: str, after_seq: int = 0, limit: int | None = None) -> list[StoredMessage]:
        """Messages with `seq > after_seq`, in seq order, at most `limit` of them; raises `ConversationNotFound`."""
        ...

    async def find_message(self, conversation_id: str, client_message_id: str) -> StoredMessage | None:
        """The message stored under that client id, if any; raises `ConversationNotFound`."""
        ...

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
        """One page, newest `created_at` first (ties by id, descending), and the total matching.

        `since` is inclusive and `until` exclusive, so adjacent windows never overlap.
        """
        ...

    async def upsert_demo_orders(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert or replace demo order rows (keys: `models.DEMO_ORDER_FIELDS`)."""

    async def demo_order(self, order_id: str) -> dict[str, str] | None:
        """One demo order as a dict, or None."""
        ...

    # -- aftercare (docs/aftercare.md): ratings, commitments, complaint records ---------------------

    async def save_rating(self, rating: Rating) -> None:
        """Store a conversation's rating, replacing an earlier one; raises `ConversationNotFound`."""

    async def rating(self, conversation_id: str) -> Rating | None:
        """The conversation's rating, if it has one."""
        ...

    async def ratings(self, *, since: datetime | None = None, until: datetime | None = None) -> list[Rating]:
        """Ratings given in [since, until), oldest first."""
        ...

    async def add_commitments(self, commitments: Sequence[Commitment]) -> None:
        """Store new commitments; one whose id is stored already is left as it is (re-reading a message
        records nothing twice). Raises `ConversationNotFound`."""

    async def commitments(
        self,
        *,
        now: datetime,
        status: CommitmentStatus | None = None,
        conversation_id: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        offset: int = 0,
    ) -> list[Commitment]:
        """Commitments by due time (earliest first); `status` is judged at `now` (see `Commitment.status`)."""
        ...

    async def commitment_counts(self, *, now: datetime) -> dict[str, int]:
        """How many commitments are `open`, `overdue` and `done` at `now` (the metrics read this)."""
        ...

    async def complete_commitment(self, commitment_id: str, *, by: str, at: datetime) -> Commitment:
        """Mark a commitment kept; one done already stays as first marked. Raises `RecordNotFound`."""
        ...

    async def add_complaint(self, record: ComplaintRecord) -> ComplaintRecord:
        """Store a new complaint record, unless its conversation has one: then that one comes back."""
        ...

    async def complaint(self, complaint_id: str) -> ComplaintRecord:
        """One complaint record; raises `RecordNotFound`."""
        ...

    async def complaint_for(self, conversation_id: str) -> ComplaintRecord | None:
        """The complaint record opened by a conversation, if any."""
        ...

    async def complaints(
        self, *, status: str | None = None, limit: int = DEFAULT_PAGE_SIZE, offset: int = 0
    ) -> list[ComplaintRecord]:
        """Complaint records, newest first."""
        ...

    async def update_complaint(self, record: ComplaintRecord, *, expected_version: int) -> None:
        """Replace a record if the stored one is still at `expected_version`; raises `RecordConflict`
        (someone changed it since it was read) or `RecordNotFound`."""


def check_page(limit: int, offset: int) -> None:
    """Shared argument check for `list_conversations`, so both stores refuse the same input."""
    if limit < 0 or offset < 0:
        raise ValueError(f"limit and offset must be >= 0, got limit={limit} offset={offset}")
