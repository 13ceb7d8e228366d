"""`SqlTranscriptStore`: the transcript store on SQLite or PostgreSQL.

Writes go through `GroupCommitWriter` (one thread, one transaction per batch, a savepoint per
write); reads run in `asyncio.to_thread` on a small pool. The event loop never touches a driver.
The schema must already be migrated: use `app.storage.migrate.open_store` for the policy.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Row, Table, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import SQLModel

from app.errors import ConversationExists, ConversationNotFound, HuashuError, StorageError
from app.storage.database import make_engine, mask_url, parse_url
from app.storage.models import (
    DEMO_ORDER_FIELDS,
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
from app.storage.tables import ConversationRecord, DemoOrderRecord, MessageRecord
from app.storage.writer import MAX_BATCH, GroupCommitWriter

T = TypeVar("T")
READ_POOL_SIZE = 4

# Core tables (not the ORM): the writer runs plain INSERT/UPDATE statements in batches.
conversations: Table = SQLModel.metadata.tables[ConversationRecord.__tablename__]
messages_t: Table = SQLModel.metadata.tables[MessageRecord.__tablename__]
demo_orders: Table = SQLModel.metadata.tables[DemoOrderRecord.__tablename__]

# Everything but the surrogate `id`, which never leaves the database.
_MESSAGE_COLUMNS = [c for c in messages_t.c if c.name != "id"]
_MESSAGE_FIELDS = [c.name for c in _MESSAGE_COLUMNS]
_CONVERSATION_FIELDS = [c.name for c in conversations.c]


def _translate(exc: BaseException, what: str) -> BaseException:
    """Our own errors pass through; driver errors become StorageError naming the operation."""
    if isinstance(exc, HuashuError | ValueError):
        return exc
    if isinstance(exc, SQLAlchemyError):
        detail = getattr(exc, "orig", None) or exc
        error = StorageError(f"{what} failed: {type(detail).__name__}: {detail}".strip())
        error.__cause__ = exc
        return error
    return exc


def _message(row: Row[Any], duplicate: bool = False) -> StoredMessage:
    m = row._mapping
    return StoredMessage(
        conversation_id=m["conversation_id"],
        seq=m["seq"],
        role=m["role"],
        text=m["text"],
        state_before=m["state_before"],
        state_after=m["state_after"],
        intent=m["intent"],
        phrase_id=m["phrase_id"],
        suggestions=m["suggestions"],
        client_message_id=m["client_message_id"],
        events=m["events"],
        created_at=m["created_at"],
        stored_at=m["stored_at"],
        duplicate=duplicate,
    )


def _conversation(row: Row[Any]) -> StoredConversation:
    m = row._mapping
    return StoredConversation(**{name: m[name] for name in _CONVERSATION_FIELDS})


class SqlTranscriptStore:
    """A `TranscriptStore` on a SQL database (`sqlite:///…` or `postgresql+psycopg://…`)."""

    def __init__(
        self,
        url: str | URL,
        *,
        clock: Callable[[], datetime] = utc_now,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self.url = parse_url(url)
        self.stats = StoreStats()
        self._clock = clock
        self._max_batch = max_batch
        self._reader: Engine | None = None
        self._writer_engine: Engine | None = None
        self._writer: GroupCommitWriter | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"SqlTranscriptStore({mask_url(self.url)!r})"

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        if self._closed:
            raise StorageError("store is closed; create a new one")
        if self._writer is not None:
            return
        reader = make_engine(self.url, pool_size=READ_POOL_SIZE)
        writer_engine = make_engine(self.url, writer=True, pool_size=1)
        try:
            await asyncio.to_thread(self._ping, reader)
        except BaseException:
            reader.dispose()
            writer_engine.dispose()
            raise
        self._reader, self._writer_engine = reader, writer_engine
        self._writer = GroupCommitWriter(
            writer_engine, stats=self.stats, translate=_translate, max_batch=self._max_batch
        )
        self._writer.start()

    def _ping(self, engine: Engine) -> None:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot reach database {mask_url(self.url)}: {exc}") from exc

    async def close(self) -> None:
        self._closed = True
        if self._writer is not None:
            await self._writer.stop()  # drains: every accepted write commits before we return
        for engine in (self._reader, self._writer_engine):
            if engine is not None:
                await asyncio.to_thread(engine.dispose)
        self._reader = self._writer_engine = None

    # -- plumbing ------------------------------------------------------------------------------

    async def _write(self, what: str, fn: Callable[[Connection], T]) -> T:
        if self._writer is None:
            raise StorageError("store is closed" if self._closed else "store is not open")
        return await self._writer.submit(what, fn)

    async def _read(self, what: str, fn: Callable[[Connection], T]) -> T:
        reader = self._reader
        if reader is None:
            raise StorageError("store is closed" if self._closed else "store is not open")

        def run() -> T:
            try:
                with reader.connect() as conn:
                    return fn(conn)
            except Exception as exc:
                translated = _translate(exc, what)
                if translated is exc:
                    raise
                raise translated from exc

        return await asyncio.to_thread(run)

    @staticmethod
    def _lock_conversation(conn: Connection, conversation_id: str) -> None:
        # FOR UPDATE serialises appends to one conversation across processes on PostgreSQL, so
        # two service instances cannot both pick the same next seq; SQLite renders no lock
        # clause and is serialised by BEGIN IMMEDIATE instead.
        found = conn.execute(
            select(conversations.c.id).where(conversations.c.id == conversation_id).with_for_update()
        ).first()
        if found is None:
            raise ConversationNotFound(conversation_id)

    # -- writes --------------------------------------------------------------------------------

    async def create_conversation(self, conv: NewConversation) -> None:
        created_at = as_utc(conv.created_at, "created_at")
        values = {
            "id": conv.id,
            "flow": conv.flow,
            "flow_version": conv.flow_version,
            "channel": conv.channel,
            "mode": conv.mode,
            "state": conv.state,
            "slots": json_copy(conv.slots, "slots"),
            "counters": json_copy(conv.counters, "counters"),
            "customer": json_copy(conv.customer, "customer"),
            "token_hash": conv.token_hash,
            "agent": conv.agent,
            "created_at": created_at,
            "updated_at": created_at,
            "ended_at": None,
        }

        def run(conn: Connection) -> None:
            taken = conn.execute(select(conversations.c.id).where(conversations.c.id == conv.id)).first()
            if taken is not None:
                raise ConversationExists(f"conversation {conv.id!r} already exists")
            try:
                conn.execute(insert(conversations).values(**values))
            except IntegrityError as exc:  # another process won the race for this id
                raise ConversationExists(f"conversation {conv.id!r} already exists") from exc

        await self._write(f"create conversation {conv.id}", run)

    async def append(
        self,
        conversation_id: str,
        messages: Sequence[NewMessage],
        snapshot: ConversationSnapshot | None = None,
    ) -> list[StoredMessage]:
        # Validate and copy on the caller's side: a bad message fails before it is queued.
        prepared = [
            (
                m,
                json_copy(m.suggestions, "suggestions"),
                json_copy(m.events, "events"),
                as_utc(m.created_at, "created_at"),
            )
            for m in messages
        ]
        snap_values: dict[str, Any] | None = None
        if snapshot is not None:
            snap_values = {
                "state": snapshot.state,
                "slots": json_copy(snapshot.slots, "slots"),
                "counters": json_copy(snapshot.counters, "counters"),
                "mode": snapshot.mode,
                "agent": snapshot.agent,
                "ended_at": as_utc(snapshot.ended_at, "ended_at") if snapshot.ended_at is not None else None,
            }

        def run(conn: Connection) -> list[StoredMessage]:
            self._lock_conversation(conn, conversation_id)
            now = as_utc(self._clock(), "clock")
            last = conn.execute(
                select(func.max(messages_t.c.seq)).where(messages_t.c.conversation_id == conversation_id)
            ).scalar()
            seq = last or 0
            result: list[StoredMessage] = []
            for message, suggestions, events, created_at in prepared:
                if message.client_message_id:
                    existing = conn.execute(
                        select(*_MESSAGE_COLUMNS).where(
                            messages_t.c.conversation_id == conversation_id,
                            messages_t.c.client_message_id == message.client_message_id,
                        )
                    ).first()
                    if existing is not None:
                        result.append(_message(existing, duplicate=True))
                        continue
                seq += 1
                stored = StoredMessage(
                    conversation_id=conversation_id,
                    seq=seq,
                    role=message.role,
                    text=message.text,
                    state_before=message.state_before,
                    state_after=message.state_after,
                    intent=message.intent,
                    phrase_id=message.phrase_id,
                    suggestions=suggestions,
                    client_message_id=message.client_message_id,
                    events=events,
                    created_at=created_at,
                    stored_at=now,
                )
                row = {name: getattr(stored, name) for name in _MESSAGE_FIELDS}
                conn.execute(insert(messages_t).values(**row))
                result.append(stored)
            if snap_values is not None and (not prepared or any(not m.duplicate for m in result)):
                conn.execute(
                    update(conversations)
                    .where(conversations.c.id == conversation_id)
                    .values(**snap_values, updated_at=now)
                )
            return result

        return await self._write(f"append to conversation {conversation_id}", run)

    async def upsert_demo_orders(self, rows: Sequence[dict[str, Any]]) -> None:
        checked = [demo_order_row(row) for row in rows]
        if not checked:
            return

        def run(conn: Connection) -> None:
            # ON CONFLICT DO UPDATE is atomic even against another process upserting the same id.
            dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            stmt = dialect_insert(demo_orders).values(checked)
            stmt = stmt.on_conflict_do_update(
                index_elements=[demo_orders.c.order_id],
                set_={name: stmt.excluded[name] for name in DEMO_ORDER_FIELDS if name != "order_id"},
            )
            conn.execute(stmt)

        await self._write("upsert demo orders", run)

    # -- reads ---------------------------------------------------------------------------------

    @staticmethod
    def _require(conn: Connection, conversation_id: str) -> None:
        if (
            conn.execute(select(conversations.c.id).where(conversations.c.id == conversation_id)).first()
            is None
        ):
            raise ConversationNotFound(conversation_id)

    async def get_conversation(self, conversation_id: str) -> StoredConversation:
        def run(conn: Connection) -> StoredConversation:
            row = conn.execute(select(conversations).where(conversations.c.id == conversation_id)).first()
            if row is None:
                raise ConversationNotFound(conversation_id)
            return _conversation(row)

        return await self._read(f"get conversation {conversation_id}", run)

    async def messages(self, conversation_id: str, after_seq: int = 0) -> list[StoredMessage]:
        def run(conn: Connection) -> list[StoredMessage]:
            self._require(conn, conversation_id)
            rows = conn.execute(
                select(*_MESSAGE_COLUMNS)
                .where(messages_t.c.conversation_id == conversation_id, messages_t.c.seq > after_seq)
                .order_by(messages_t.c.seq)
            ).all()
            return [_message(row) for row in rows]

        return await self._read(f"read messages of {conversation_id}", run)

    async def find_message(self, conversation_id: str, client_message_id: str) -> StoredMessage | None:
        def run(conn: Connection) -> StoredMessage | None:
            self._require(conn, conversation_id)
            row = conn.execute(
                select(*_MESSAGE_COLUMNS).where(
                    messages_t.c.conversation_id == conversation_id,
                    messages_t.c.client_message_id == client_message_id,
                )
            ).first()
            return _message(row) if row is not None else None

        return await self._read(f"find message in {conversation_id}", run)

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
        check_page(limit, offset)
        conditions = []
        if state is not None:
            conditions.append(conversations.c.state == state)
        if flow is not None:
            conditions.append(conversations.c.flow == flow)
        if since is not None:
            conditions.append(conversations.c.created_at >= as_utc(since, "since"))
        if until is not None:
            conditions.append(conversations.c.created_at < as_utc(until, "until"))

        def run(conn: Connection) -> tuple[list[StoredConversation], int]:
            # One snapshot for both statements, so the page and the total agree. SQLite's read
            # transaction already is one; PostgreSQL's default READ COMMITTED is not.
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                total = conn.execute(
                    select(func.count()).select_from(conversations).where(*conditions)
                ).scalar()
                rows = conn.execute(
                    select(conversations)
                    .where(*conditions)
                    .order_by(conversations.c.created_at.desc(), conversations.c.id.desc())
                    .limit(limit)
                    .offset(offset)
                ).all()
            return [_conversation(row) for row in rows], int(total or 0)

        return await self._read("list conversations", run)

    async def demo_order(self, order_id: str) -> dict[str, str] | None:
        def run(conn: Connection) -> dict[str, str] | None:
            row = conn.execute(select(demo_orders).where(demo_orders.c.order_id == order_id)).first()
            return {name: row._mapping[name] for name in DEMO_ORDER_FIELDS} if row is not None else None

        return await self._read(f"read demo order {order_id}", run)
