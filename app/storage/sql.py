"""`SqlTranscriptStore`: the transcript store on SQLite or PostgreSQL.

Writes go through `GroupCommitWriter` (one thread, one transaction per batch; a group of appends
shares its statements: see `_append_group`); reads run in `asyncio.to_thread` on a small pool; on
SQLite, `WalCheckpointer` checkpoints the WAL in a thread of its own, off the commit path. The
event loop never touches a driver. Statements are prebuilt in `statements.py`.
The schema must already be migrated: use `app.storage.migrate.open_store` for the policy.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Connection, Engine, Row, case, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from app.aftercare.complaints import ComplaintRecord
from app.aftercare.records import COMMITMENT_STATUSES, Commitment, CommitmentStatus, Rating
from app.errors import (
    ConversationExists,
    ConversationNotFound,
    HuashuError,
    RecordConflict,
    RecordNotFound,
    SeqConflict,
    StorageError,
)
from app.storage.checkpoint import CHECKPOINT_INTERVAL_S, WalCheckpointer
from app.storage.database import JsonText, make_engine, mask_url, parse_url
from app.storage.models import (
    DEMO_ORDER_FIELDS,
    NEW_MESSAGE_FIELDS,
    STORED_MESSAGE_FIELDS,
    ConversationSnapshot,
    NewConversation,
    NewMessage,
    StoredConversation,
    StoredMessage,
    as_utc,
    demo_order_row,
    json_text,
    utc_now,
)
from app.storage.statements import (
    CONVERSATION,
    CONVERSATION_FIELDS,
    CONVERSATION_ID,
    DEMO_ORDER,
    GROUP_STATEMENTS,
    INSERT_CONVERSATION,
    INSERT_MESSAGE,
    MESSAGE_BY_CLIENT_ID,
    MESSAGES_AFTER,
    UPDATE_SNAPSHOT,
    commitments_t,
    complaints_t,
    conversations,
    demo_orders,
    ratings_t,
)
from app.storage.store import DEFAULT_PAGE_SIZE, StoreStats, check_page
from app.storage.writer import MAX_BATCH, GroupCommitWriter

T = TypeVar("T")
READ_POOL_SIZE = 4
RATING_FIELDS = tuple(f.name for f in fields(Rating))
COMMITMENT_FIELDS = tuple(f.name for f in fields(Commitment))


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
    return StoredMessage(**{name: m[name] for name in STORED_MESSAGE_FIELDS}, duplicate=duplicate)


def _conversation(row: Row[Any]) -> StoredConversation:
    m = row._mapping
    return StoredConversation(**{name: m[name] for name in CONVERSATION_FIELDS})


def _duplicate(stored: StoredMessage) -> StoredMessage:
    # Every caller gets its own lists, as if it had read the row itself.
    return replace(
        stored,
        duplicate=True,
        suggestions=copy.deepcopy(stored.suggestions),
        events=copy.deepcopy(stored.events),
    )


@dataclass(frozen=True, slots=True)
class _Row:
    """One message of an append, checked and JSON-encoded once, on the caller's side."""

    message: NewMessage
    values: dict[str, Any]  # INSERT_MESSAGE's values but `seq` and `stored_at`, which the writer sets


@dataclass(frozen=True, slots=True)
class _Append:
    conversation_id: str
    rows: list[_Row]
    snapshot: dict[str, Any] | None  # UPDATE_SNAPSHOT's values but `new_updated_at`
    expected_last_seq: int | None


def _row(conversation_id: str, message: NewMessage) -> _Row:
    suggestions = json_text(message.suggestions, "suggestions")
    events = json_text(message.events, "events")
    values = {name: getattr(message, name) for name in NEW_MESSAGE_FIELDS}
    values.update(conversation_id=conversation_id, suggestions=JsonText(suggestions), events=JsonText(events),
                  created_at=as_utc(message.created_at, "created_at"))
    return _Row(message, values)


def _snapshot_values(snapshot: ConversationSnapshot) -> dict[str, Any]:
    ended_at = snapshot.ended_at
    return {
        "new_state": snapshot.state,
        "new_slots": JsonText(json_text(snapshot.slots, "slots")),
        "new_counters": JsonText(json_text(snapshot.counters, "counters")),
        "new_mode": snapshot.mode,
        "new_agent": snapshot.agent,
        "new_ended_at": as_utc(ended_at, "ended_at") if ended_at is not None else None,
    }


class SqlTranscriptStore:
    """A `TranscriptStore` on a SQL database (`sqlite:///…` or `postgresql+psycopg://…`)."""

    def __init__(
        self,
        url: str | URL,
        *,
        clock: Callable[[], datetime] = utc_now,
        max_batch: int = MAX_BATCH,
        checkpoint_interval_s: float = CHECKPOINT_INTERVAL_S,
    ) -> None:
        self.url = parse_url(url)
        self.stats = StoreStats()
        self._clock = clock
        self._max_batch = max_batch
        self._checkpoint_interval_s = checkpoint_interval_s
        self._reader: Engine | None = None
        self._writer_engine: Engine | None = None
        self._writer: GroupCommitWriter | None = None
        self._checkpointer: WalCheckpointer | None = None  # SQLite only
        self._group_statements = GROUP_STATEMENTS["sqlite"]  # replaced by the engine's dialect at open
        self._closed = False

    def __repr__(self) -> str:
        return f"SqlTranscriptStore({mask_url(self.url)!r})"

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        if self._closed:
            raise StorageError("store is closed; create a new one")
        if self._writer is not None:
            return
        reader = make_engine(self.url, reader=True, pool_size=READ_POOL_SIZE)
        writer_engine = make_engine(self.url, writer=True, pool_size=1)
        try:
            await asyncio.to_thread(self._ping, reader)
        except BaseException:
            reader.dispose()
            writer_engine.dispose()
            raise
        self._reader, self._writer_engine = reader, writer_engine
        self._group_statements = GROUP_STATEMENTS[writer_engine.dialect.name]
        self._writer = GroupCommitWriter(
            writer_engine, stats=self.stats, translate=_translate, max_batch=self._max_batch
        )
        self._writer.start()
        if writer_engine.dialect.name == "sqlite":
            self._checkpointer = WalCheckpointer(reader, stats=self.stats, interval_s=self._checkpoint_interval_s)
            self._checkpointer.start()

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
        if self._checkpointer is not None:
            await asyncio.to_thread(self._checkpointer.stop)
            self._checkpointer = None
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
                try:
                    with reader.connect() as conn:
                        return fn(conn)
                except DBAPIError as exc:
                    if not exc.connection_invalidated:
                        raise
                    # The pooled connection was dropped (a database restart; the reader does not
                    # ping at checkout): SQLAlchemy has discarded it, and a read can run again.
                    with reader.connect() as conn:
                        return fn(conn)
            except Exception as exc:
                translated = _translate(exc, what)
                if translated is exc:
                    raise
                raise translated from exc

        return await asyncio.to_thread(run)

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
            "slots": JsonText(json_text(conv.slots, "slots")),
            "counters": JsonText(json_text(conv.counters, "counters")),
            "customer": JsonText(json_text(conv.customer, "customer")),
            "token_hash": conv.token_hash,
            "agent": conv.agent,
            "created_at": created_at,
            "updated_at": created_at,
            "ended_at": None,
        }

        def run(conn: Connection) -> None:
            if conn.execute(CONVERSATION_ID, {"id": conv.id}).first() is not None:
                raise ConversationExists(f"conversation {conv.id!r} already exists")
            try:
                conn.execute(INSERT_CONVERSATION, values)
            except IntegrityError as exc:  # another process won the race for this id
                raise ConversationExists(f"conversation {conv.id!r} already exists") from exc

        await self._write(f"create conversation {conv.id}", run)

    async def append(
        self,
        conversation_id: str,
        messages: Sequence[NewMessage],
        snapshot: ConversationSnapshot | None = None,
        *,
        expected_last_seq: int | None = None,
    ) -> list[StoredMessage]:
        # Validate and encode on the caller's side: a bad message fails before it is queued, and
        # the writer thread, which every turn waits for, does as little as possible.
        item = _Append(
            conversation_id,
            [_row(conversation_id, m) for m in messages],
            _snapshot_values(snapshot) if snapshot is not None else None,
            expected_last_seq,
        )
        writer = self._writer
        if writer is None:
            raise StorageError("store is closed" if self._closed else "store is not open")
        return await writer.submit_grouped(
            f"append to conversation {conversation_id}", self._append_group, item
        )

    def _append_group(self, conn: Connection, items: list[_Append]) -> list[list[StoredMessage] | Exception]:
        """Every append of a group in five statements: lock, last seqs, stored client ids, insert, update.

        Items run in queue order, so seqs continue and client ids repeat across items exactly as
        if each append ran alone. An item for an unknown conversation, or whose conversation is
        not at its `expected_last_seq` (the lock makes that check exact across processes), fails
        alone with nothing written; a database error raises, and the writer retries the items
        one at a time.
        """
        statements = self._group_statements
        ids = json.dumps(sorted({item.conversation_id for item in items}))
        found = set(conn.scalars(statements.lock, {"ids": ids}))
        now = as_utc(self._clock(), "clock")
        last_seq: dict[str, int] = {}
        if found:
            seqs = conn.execute(statements.last_seqs, {"ids": json.dumps(sorted(found))})
            last_seq = {cid: seq or 0 for cid, seq in seqs}
        keys = [
            (item.conversation_id, row.message.client_message_id)
            for item in items
            if item.conversation_id in found
            for row in item.rows
            if row.message.client_message_id
        ]
        known: dict[tuple[str, str | None], StoredMessage] = {}
        if keys:
            for found_row in conn.execute(statements.stored_by_client_ids, {"keys": json.dumps(keys)}):
                stored = _message(found_row)
                known[(stored.conversation_id, stored.client_message_id)] = stored
        inserts: list[dict[str, Any]] = []
        snapshots: dict[str, dict[str, Any]] = {}  # the last one per conversation is the one that counts
        outcomes: list[list[StoredMessage] | Exception] = []
        for item in items:
            cid = item.conversation_id
            if cid not in found:
                outcomes.append(ConversationNotFound(cid))
                continue
            seq = last_seq.get(cid, 0)
            if item.expected_last_seq is not None and seq != item.expected_last_seq:
                outcomes.append(SeqConflict(cid, item.expected_last_seq, seq))
                continue
            result: list[StoredMessage] = []
            for row in item.rows:
                client_id = row.message.client_message_id
                existing = known.get((cid, client_id)) if client_id else None
                if existing is not None:
                    result.append(_duplicate(existing))
                    continue
                seq += 1
                inserts.append({**row.values, "seq": seq, "stored_at": now})
                # As given, not decoded back from the text just encoded: see `TranscriptStore.append`.
                stored = StoredMessage.of(
                    row.message, conversation_id=cid, seq=seq, stored_at=now, created_at=row.values["created_at"]
                )
                if client_id:
                    known[(cid, client_id)] = stored
                result.append(stored)
            last_seq[cid] = seq
            if item.snapshot is not None and (not item.rows or any(not m.duplicate for m in result)):
                snapshots[cid] = {**item.snapshot, "cid": cid, "new_updated_at": now}
            outcomes.append(result)
        if inserts:
            conn.execute(INSERT_MESSAGE, inserts)
        if snapshots:
            conn.execute(UPDATE_SNAPSHOT, list(snapshots.values()))
        return outcomes

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
        if conn.execute(CONVERSATION_ID, {"id": conversation_id}).first() is None:
            raise ConversationNotFound(conversation_id)

    async def get_conversation(self, conversation_id: str) -> StoredConversation:
        def run(conn: Connection) -> StoredConversation:
            row = conn.execute(CONVERSATION, {"id": conversation_id}).first()
            if row is None:
                raise ConversationNotFound(conversation_id)
            return _conversation(row)

        return await self._read(f"get conversation {conversation_id}", run)

    async def messages(self, conversation_id: str, after_seq: int = 0, limit: int | None = None) -> list[StoredMessage]:
        def run(conn: Connection) -> list[StoredMessage]:
            self._require(conn, conversation_id)
            statement = MESSAGES_AFTER if limit is None else MESSAGES_AFTER.limit(limit)
            rows = conn.execute(statement, {"id": conversation_id, "after": after_seq}).all()
            return [_message(row) for row in rows]

        return await self._read(f"read messages of {conversation_id}", run)

    async def find_message(self, conversation_id: str, client_message_id: str) -> StoredMessage | None:
        def run(conn: Connection) -> StoredMessage | None:
            self._require(conn, conversation_id)
            row = conn.execute(
                MESSAGE_BY_CLIENT_ID, {"id": conversation_id, "client_id": client_message_id}
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
            # One snapshot for both statements, so the page and the total agree: the reader runs
            # each statement alone otherwise. On SQLite a transaction is one snapshot; PostgreSQL's
            # default READ COMMITTED is not.
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                if conn.dialect.name == "sqlite":
                    conn.exec_driver_sql("BEGIN")  # the read engine emits no BEGIN of its own
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
            row = conn.execute(DEMO_ORDER, {"id": order_id}).first()
            return {name: row._mapping[name] for name in DEMO_ORDER_FIELDS} if row is not None else None

        return await self._read(f"read demo order {order_id}", run)

    # -- aftercare ---------------------------------------------------------------------------------
    # Few and small writes (a rating, a promise, a complaint step): plain statements through the writer.

    async def save_rating(self, rating: Rating) -> None:
        values = {**_rating_values(rating), "at": as_utc(rating.at, "at")}

        def run(conn: Connection) -> None:
            self._require(conn, rating.conversation_id)
            dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            stmt = dialect_insert(ratings_t).values(values)
            stmt = stmt.on_conflict_do_update(
                index_elements=[ratings_t.c.conversation_id],
                set_={name: stmt.excluded[name] for name in values if name != "conversation_id"},
            )
            conn.execute(stmt)

        await self._write(f"rate conversation {rating.conversation_id}", run)

    async def rating(self, conversation_id: str) -> Rating | None:
        def run(conn: Connection) -> Rating | None:
            row = conn.execute(select(ratings_t).where(ratings_t.c.conversation_id == conversation_id)).first()
            return Rating(**row._mapping) if row is not None else None

        return await self._read(f"read the rating of {conversation_id}", run)

    async def ratings(self, *, since: datetime | None = None, until: datetime | None = None) -> list[Rating]:
        conditions = []
        if since is not None:
            conditions.append(ratings_t.c.at >= as_utc(since, "since"))
        if until is not None:
            conditions.append(ratings_t.c.at < as_utc(until, "until"))

        def run(conn: Connection) -> list[Rating]:
            rows = conn.execute(
                select(ratings_t).where(*conditions).order_by(ratings_t.c.at, ratings_t.c.conversation_id)
            )
            return [Rating(**row._mapping) for row in rows]

        return await self._read("read ratings", run)

    async def add_commitments(self, commitments: Sequence[Commitment]) -> None:
        rows = [_commitment_values(c) for c in commitments]
        if not rows:
            return

        def run(conn: Connection) -> None:
            for conversation_id in {row["conversation_id"] for row in rows}:
                self._require(conn, conversation_id)
            dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            conn.execute(dialect_insert(commitments_t).values(rows).on_conflict_do_nothing(index_elements=["id"]))

        await self._write("add commitments", run)

    async def commitments(
        self,
        *,
        now: datetime,
        status: CommitmentStatus | None = None,
        conversation_id: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        offset: int = 0,
    ) -> list[Commitment]:
        check_page(limit, offset)
        now = as_utc(now, "now")
        c = commitments_t.c
        by_status: dict[str | None, list[ColumnElement[bool]]] = {
            None: [],
            "done": [c.done_at.is_not(None)],
            "open": [c.done_at.is_(None), c.due_at >= now],
            "overdue": [c.done_at.is_(None), c.due_at < now],
        }
        conditions = by_status[status]
        if conversation_id is not None:
            conditions.append(c.conversation_id == conversation_id)

        def run(conn: Connection) -> list[Commitment]:
            rows = conn.execute(
                select(commitments_t).where(*conditions).order_by(c.due_at, c.id).limit(limit).offset(offset)
            )
            return [Commitment(**row._mapping) for row in rows]

        return await self._read("list commitments", run)

    async def commitment_counts(self, *, now: datetime) -> dict[str, int]:
        now = as_utc(now, "now")
        c = commitments_t.c
        kind = case((c.done_at.is_not(None), "done"), (c.due_at < now, "overdue"), else_="open")

        def run(conn: Connection) -> dict[str, int]:
            counts = dict.fromkeys(COMMITMENT_STATUSES, 0)
            counts.update({status: int(n) for status, n in conn.execute(select(kind, func.count()).group_by(kind))})
            return counts

        return await self._read("count commitments", run)

    async def complete_commitment(self, commitment_id: str, *, by: str, at: datetime) -> Commitment:
        at = as_utc(at, "at")
        c = commitments_t.c

        def run(conn: Connection) -> Commitment:
            # Only an open one is changed, so the first to mark it done stays on record.
            conn.execute(
                update(commitments_t)
                .where(c.id == commitment_id, c.done_at.is_(None))
                .values(done_at=at, done_by=by)
            )
            row = conn.execute(select(commitments_t).where(c.id == commitment_id)).first()
            if row is None:
                raise RecordNotFound(f"no commitment {commitment_id!r}")
            return Commitment(**row._mapping)

        return await self._write(f"complete commitment {commitment_id}", run)

    async def add_complaint(self, record: ComplaintRecord) -> ComplaintRecord:
        values = _complaint_values(record)

        def run(conn: Connection) -> ComplaintRecord:
            self._require(conn, record.conversation_id)
            dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            conn.execute(
                dialect_insert(complaints_t).values(values).on_conflict_do_nothing(index_elements=["conversation_id"])
            )
            row = conn.execute(
                select(complaints_t.c.record).where(complaints_t.c.conversation_id == record.conversation_id)
            ).one()
            return ComplaintRecord.from_dict(row.record)

        return await self._write(f"open a complaint record for {record.conversation_id}", run)

    async def complaint(self, complaint_id: str) -> ComplaintRecord:
        def run(conn: Connection) -> ComplaintRecord:
            row = conn.execute(select(complaints_t.c.record).where(complaints_t.c.id == complaint_id)).first()
            if row is None:
                raise RecordNotFound(f"no complaint record {complaint_id!r}")
            return ComplaintRecord.from_dict(row.record)

        return await self._read(f"read complaint record {complaint_id}", run)

    async def complaint_for(self, conversation_id: str) -> ComplaintRecord | None:
        def run(conn: Connection) -> ComplaintRecord | None:
            row = conn.execute(
                select(complaints_t.c.record).where(complaints_t.c.conversation_id == conversation_id)
            ).first()
            return ComplaintRecord.from_dict(row.record) if row is not None else None

        return await self._read(f"read the complaint record of {conversation_id}", run)

    async def complaints(
        self, *, status: str | None = None, limit: int = DEFAULT_PAGE_SIZE, offset: int = 0
    ) -> list[ComplaintRecord]:
        check_page(limit, offset)
        c = complaints_t.c
        conditions = [c.status == status] if status is not None else []

        def run(conn: Connection) -> list[ComplaintRecord]:
            rows = conn.execute(
                select(c.record).where(*conditions).order_by(c.created_at.desc(), c.id.desc()).limit(limit).offset(offset)
            )
            return [ComplaintRecord.from_dict(row.record) for row in rows]

        return await self._read("list complaint records", run)

    async def update_complaint(self, record: ComplaintRecord, *, expected_version: int) -> None:
        values = _complaint_values(record)
        c = complaints_t.c

        def run(conn: Connection) -> None:
            # Compare-and-set on the version: two people moving one record cannot both win.
            changed = conn.execute(
                update(complaints_t)
                .where(c.id == record.id, c.version == expected_version)
                .values({k: v for k, v in values.items() if k not in ("id", "conversation_id", "created_at")})
            ).rowcount
            if changed == 1:
                return
            stored = conn.execute(select(c.version).where(c.id == record.id)).first()
            if stored is None:
                raise RecordNotFound(f"no complaint record {record.id!r}")
            raise RecordConflict(
                f"complaint record {record.id!r} is at version {stored.version}, not {expected_version}: read it again"
            )

        await self._write(f"update complaint record {record.id}", run)


def _rating_values(rating: Rating) -> dict[str, Any]:
    return {name: getattr(rating, name) for name in RATING_FIELDS}


def _commitment_values(commitment: Commitment) -> dict[str, Any]:
    values = {name: getattr(commitment, name) for name in COMMITMENT_FIELDS}
    for name in ("made_at", "due_at", "done_at"):
        if values[name] is not None:
            values[name] = as_utc(values[name], name)
    return values


def _complaint_values(record: ComplaintRecord) -> dict[str, Any]:
    data = record.to_dict()
    json_text(data, "complaint record")  # a value with no JSON form fails here, naming what
    return {
        "id": record.id,
        "conversation_id": record.conversation_id,
        "status": record.status,
        "version": record.version,
        "record": data,
        "created_at": as_utc(record.created_at, "created_at"),
        "updated_at": as_utc(record.updated_at, "updated_at"),
    }
