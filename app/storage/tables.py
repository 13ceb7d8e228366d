"""SQLModel table types (`…Record`). The migration in `migrations/versions/` must match these;
`tests/storage/test_schema.py` compares the two on every backend so they cannot drift.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UtcDateTime(TypeDecorator[datetime]):
    """`timestamp with time zone` that always hands back aware UTC datetimes.

    SQLite has no zone-aware type and returns naive values; we store UTC there and put the
    zone back on the way out, so both backends return the same thing.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"refusing naive datetime {value!r}: the store keeps UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class ConversationRecord(SQLModel, table=True):
    __tablename__ = "conversations"
    # Composite (filter, created_at) indexes serve "list by state/flow, newest first" without a sort.
    __table_args__ = (
        Index("ix_conversations_created_at", "created_at"),
        Index("ix_conversations_state_created_at", "state", "created_at"),
        Index("ix_conversations_flow_created_at", "flow", "created_at"),
    )

    id: str = Field(primary_key=True, sa_type=String())
    flow: str = Field(sa_type=String(), nullable=False)
    flow_version: str = Field(sa_type=String(), nullable=False)
    channel: str = Field(sa_type=String(), nullable=False)
    mode: str = Field(sa_type=String(), nullable=False)
    state: str = Field(sa_type=String(), nullable=False)
    slots: dict[str, Any] = Field(sa_type=JSON(), nullable=False)
    counters: dict[str, Any] = Field(sa_type=JSON(), nullable=False)
    customer: dict[str, Any] | None = Field(default=None, sa_type=JSON(), nullable=True)
    token_hash: str = Field(sa_type=String(), nullable=False)
    agent: str | None = Field(default=None, sa_type=String(), nullable=True)
    created_at: datetime = Field(sa_type=UtcDateTime(), nullable=False)
    updated_at: datetime = Field(sa_type=UtcDateTime(), nullable=False)
    ended_at: datetime | None = Field(default=None, sa_type=UtcDateTime(), nullable=True)


class MessageRecord(SQLModel, table=True):
    """The append-only message/event log; rows are never updated or deleted by the store."""

    __tablename__ = "messages"
    # uq_messages_conversation_seq also serves as the conversation_id index (leading column).
    # Unique constraints treat NULLs as distinct on SQLite and PostgreSQL, so messages without a
    # client id never collide on uq_messages_conversation_client_id.
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_messages_conversation_seq"),
        UniqueConstraint("conversation_id", "client_message_id", name="uq_messages_conversation_client_id"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=Integer())
    conversation_id: str = Field(
        sa_type=String(),
        nullable=False,
        # Named so later migrations can drop/alter it the same way on both backends.
        sa_column_args=[
            ForeignKey("conversations.id", name="fk_messages_conversation_id", ondelete="CASCADE")
        ],
    )
    seq: int = Field(sa_type=Integer(), nullable=False)
    role: str = Field(sa_type=String(), nullable=False)
    text: str = Field(sa_type=Text(), nullable=False)
    state_before: str = Field(sa_type=String(), nullable=False)
    state_after: str = Field(sa_type=String(), nullable=False)
    intent: str | None = Field(default=None, sa_type=String(), nullable=True)
    phrase_id: str | None = Field(default=None, sa_type=String(), nullable=True)
    suggestions: list[dict[str, Any]] = Field(sa_type=JSON(), nullable=False)
    client_message_id: str | None = Field(default=None, sa_type=String(), nullable=True)
    events: list[dict[str, Any]] = Field(sa_type=JSON(), nullable=False)
    created_at: datetime = Field(sa_type=UtcDateTime(), nullable=False)
    stored_at: datetime = Field(sa_type=UtcDateTime(), nullable=False)


class DemoOrderRecord(SQLModel, table=True):
    """Backs the demo "where is my parcel" action; not part of the transcript."""

    __tablename__ = "demo_orders"

    order_id: str = Field(primary_key=True, sa_type=String())
    status: str = Field(sa_type=String(), nullable=False)
    carrier: str = Field(sa_type=String(), nullable=False)
    tracking_no: str = Field(sa_type=String(), nullable=False)
    eta: str = Field(sa_type=String(), nullable=False)  # ISO date, kept as text: it is display data
    product: str = Field(sa_type=String(), nullable=False)


def _conversation_fk(table: str) -> list[ForeignKey]:
    return [ForeignKey("conversations.id", name=f"fk_{table}_conversation_id", ondelete="CASCADE")]


class RatingRecord(SQLModel, table=True):
    """A conversation's satisfaction rating (the latest counts), with what it is aggregated by."""

    __tablename__ = "ratings"
    __table_args__ = (Index("ix_ratings_at", "at"),)

    conversation_id: str = Field(primary_key=True, sa_type=String(), sa_column_args=_conversation_fk("ratings"))
    score: int = Field(sa_type=Integer(), nullable=False)
    comment: str = Field(sa_type=Text(), nullable=False)
    at: datetime = Field(sa_type=UtcDateTime(), nullable=False)
    channel: str = Field(sa_type=String(), nullable=False)
    flow: str = Field(sa_type=String(), nullable=False)
    agent: str | None = Field(default=None, sa_type=String(), nullable=True)
    intent: str = Field(sa_type=String(), nullable=False)


class CommitmentRecord(SQLModel, table=True):
    """A time-bound promise made to a customer; `done_at` is set when someone marks it kept."""

    __tablename__ = "commitments"
    # Open commitments by due time: the overdue list and the metric read this.
    __table_args__ = (
        Index("ix_commitments_done_due", "done_at", "due_at"),
        Index("ix_commitments_conversation_id", "conversation_id"),
    )

    id: str = Field(primary_key=True, sa_type=String())
    conversation_id: str = Field(sa_type=String(), nullable=False, sa_column_args=_conversation_fk("commitments"))
    seq: int = Field(sa_type=Integer(), nullable=False)
    what: str = Field(sa_type=Text(), nullable=False)
    customer: str = Field(sa_type=String(), nullable=False)
    promised_by: str = Field(sa_type=String(), nullable=False)
    source: str = Field(sa_type=String(), nullable=False)
    phrase_id: str | None = Field(default=None, sa_type=String(), nullable=True)
    window: str = Field(sa_type=String(), nullable=False)
    made_at: datetime = Field(sa_type=UtcDateTime(), nullable=False)
    due_at: datetime = Field(sa_type=UtcDateTime(), nullable=False)
    done_at: datetime | None = Field(default=None, sa_type=UtcDateTime(), nullable=True)
    done_by: str | None = Field(default=None, sa_type=String(), nullable=True)


class ComplaintRow(SQLModel, table=True):
    """A complaint record: its status and version as columns (to filter and to update safely), the
    whole record (facts, timeline, return visits) as `ComplaintRecord.to_dict()` JSON."""

    __tablename__ = "complaints"
    __table_args__ = (
        UniqueConstraint("conversation_id", name="uq_complaints_conversation_id"),
        Index("ix_complaints_status_created_at", "status", "created_at"),
    )

    id: str = Field(primary_key=True, sa_type=String())
    conversation_id: str = Field(sa_type=String(), nullable=False, sa_column_args=_conversation_fk("complaints"))
    status: str = Field(sa_type=String(), nullable=False)
    version: int = Field(sa_type=Integer(), nullable=False)
    record: dict[str, Any] = Field(sa_type=JSON(), nullable=False)
    created_at: datetime = Field(sa_type=UtcDateTime(), nullable=False)
    updated_at: datetime = Field(sa_type=UtcDateTime(), nullable=False)
