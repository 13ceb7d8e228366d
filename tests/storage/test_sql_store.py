"""What only the SQL store has: group commit, savepoints, durability across restarts, engines, URLs."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, closing
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from app.errors import StorageError
from app.storage.database import WRITER_AUTOCHECKPOINT_PAGES, make_engine, mask_url, parse_url
from app.storage.migrate import upgrade
from app.storage.models import ConversationSnapshot, NewConversation, NewMessage, utc_now
from app.storage.sql import SqlTranscriptStore
from app.storage.statements import GROUP_STATEMENTS, INSERT_CONVERSATION

NewConv = Callable[..., NewConversation]
NewMsg = Callable[..., NewMessage]
Snap = Callable[..., ConversationSnapshot]
OpenSql = Callable[..., Awaitable[SqlTranscriptStore]]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """Overrides the contract suite's backends: memory has no SQL to test."""
    return str(request.param)


@pytest.fixture
async def open_sql(database_url: str) -> AsyncIterator[OpenSql]:
    """Factory of opened SqlTranscriptStores (keyword arguments pass through); closed after the test."""
    opened: list[SqlTranscriptStore] = []

    async def make(**kwargs: Any) -> SqlTranscriptStore:
        store = SqlTranscriptStore(database_url, **kwargs)
        await store.open()
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.close()


class GatedClock:
    """A store clock whose first call parks the writer thread until `release` is set.

    While the writer is parked, everything the test submits queues up, so the next batch is
    exactly those writes: batching becomes deterministic instead of timing-dependent.
    """

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self._calls = 0

    def __call__(self) -> datetime:
        self._calls += 1
        if self._calls == 1:
            self.entered.set()
            if not self.release.wait(timeout=30):
                raise RuntimeError("gate was never released")
        return utc_now()

    async def wait_entered(self) -> None:
        assert await asyncio.to_thread(self.entered.wait, 30)


async def _queued(*coros: Awaitable[Any]) -> list[asyncio.Task[Any]]:
    tasks = [asyncio.ensure_future(c) for c in coros]
    await asyncio.sleep(0)  # let each task run up to its queue.put and park on its future
    return tasks


@pytest.fixture
def exploding_trigger(database_url: str) -> Iterator[None]:
    """A database trigger that refuses `state = 'explode'`: a real failure inside the transaction."""
    engine = make_engine(database_url, pool_size=1)
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER explode BEFORE UPDATE ON conversations WHEN NEW.state = 'explode' "
                "BEGIN SELECT RAISE(ABORT, 'explode refused'); END"
            )
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION explode() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "IF NEW.state = 'explode' THEN RAISE EXCEPTION 'explode refused'; END IF; RETURN NEW; END $$"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER explode BEFORE UPDATE ON conversations FOR EACH ROW EXECUTE FUNCTION explode()"
            )
    yield
    with engine.begin() as conn:  # the PostgreSQL database is shared by the session
        conn.exec_driver_sql(
            "DROP TRIGGER explode" + (" ON conversations" if conn.dialect.name != "sqlite" else "")
        )
        if conn.dialect.name != "sqlite":
            conn.exec_driver_sql("DROP FUNCTION explode()")
    engine.dispose()


async def test_group_commit_batches_concurrent_appends(
    open_sql: OpenSql, new_conversation: NewConv, new_message: NewMsg
) -> None:
    store = await open_sql()
    convs = [new_conversation() for _ in range(20)]
    await asyncio.gather(*(store.create_conversation(c) for c in convs))
    before = store.stats.commits

    await asyncio.gather(*(store.append(convs[i % 20].id, [new_message()]) for i in range(200)))

    commits = store.stats.commits - before
    assert commits < 200, f"{commits} commits for 200 appends: group commit is not batching"
    assert store.stats.max_batch > 1
    assert store.stats.items == 220


async def test_writes_queued_while_the_writer_is_busy_share_one_commit(
    open_sql: OpenSql, new_conversation: NewConv, new_message: NewMsg
) -> None:
    gate = GatedClock()
    store = await open_sql(clock=gate)
    conv = new_conversation()
    await store.create_conversation(conv)
    first = await _queued(store.append(conv.id, [new_message()]))
    await gate.wait_entered()

    rest = await _queued(*(store.append(conv.id, [new_message()]) for _ in range(10)))
    gate.release.set()
    await asyncio.gather(*first, *rest)

    assert store.stats.commits == 3  # create, the gated append, then the 10 queued behind it
    assert store.stats.max_batch == 10


async def test_a_failing_write_fails_alone_within_its_batch(
    open_sql: OpenSql, new_conversation: NewConv, new_message: NewMsg, snapshot: Snap, exploding_trigger: None
) -> None:
    gate = GatedClock()
    store = await open_sql(clock=gate)
    a, b = new_conversation(), new_conversation()
    await store.create_conversation(a)
    await store.create_conversation(b)
    first = await _queued(store.append(a.id, [new_message()]))
    await gate.wait_entered()

    batch = await _queued(
        store.append(a.id, [new_message()], snapshot(state="ok")),
        store.append(b.id, [new_message(), new_message()], snapshot(state="explode")),
        store.append("missing", [new_message()]),
        store.append(a.id, [new_message()]),
    )
    gate.release.set()
    await asyncio.gather(*first)
    good1, bad, missing, good2 = await asyncio.gather(*batch, return_exceptions=True)

    assert store.stats.max_batch == 4 and store.stats.failed_commits == 0
    assert isinstance(bad, StorageError) and "explode refused" in str(bad)
    assert type(missing).__name__ == "ConversationNotFound"
    assert [m.seq for m in good1 + good2] == [2, 3]  # type: ignore[operator]
    # The failed append's messages went with its savepoint: atomic with its snapshot.
    assert await store.messages(b.id) == []
    assert (await store.get_conversation(b.id)).state == "start"
    assert (await store.get_conversation(a.id)).state == "ok"


async def test_appends_written_together_continue_seqs_and_see_each_others_client_ids(
    open_sql: OpenSql, new_conversation: NewConv, new_message: NewMsg, snapshot: Snap
) -> None:
    gate = GatedClock()
    store = await open_sql(clock=gate)
    a, b = new_conversation(), new_conversation()
    await store.create_conversation(a)
    await store.create_conversation(b)
    first = await _queued(store.append(a.id, [new_message(client_message_id="c-0")]))
    await gate.wait_entered()

    batch = await _queued(
        store.append(a.id, [new_message(client_message_id="c-1")], snapshot(state="one")),
        store.append(b.id, [new_message(client_message_id="c-1")]),
        store.append(a.id, [new_message(client_message_id="c-0"), new_message(client_message_id="c-2")]),
        store.append(a.id, [new_message(), new_message(client_message_id="c-3")], snapshot(state="two")),
        store.append(a.id, [new_message(client_message_id="c-1")], snapshot(state="replayed")),
    )
    gate.release.set()
    await asyncio.gather(*first)
    one, other, mixed, plain, replayed = await asyncio.gather(*batch)

    assert store.stats.max_batch == 5
    assert [(m.seq, m.duplicate) for m in one + other] == [(2, False), (1, False)]
    assert [(m.seq, m.duplicate) for m in mixed] == [(1, True), (3, False)]
    assert [(m.seq, m.duplicate) for m in plain + replayed] == [(4, False), (5, False), (2, True)]
    assert [m.seq for m in await store.messages(a.id)] == [1, 2, 3, 4, 5]
    # The all-duplicate append's snapshot is not applied, even written together with others.
    assert (await store.get_conversation(a.id)).state == "two"
    assert replayed[0].events is not one[0].events  # each caller gets its own copy


async def test_a_batch_of_appends_runs_a_fixed_number_of_statements(
    open_sql: OpenSql, new_conversation: NewConv, new_message: NewMsg, snapshot: Snap
) -> None:
    # Guards the group path: per-row statements made an append cost ~2.5 ms of writer CPU.
    gate = GatedClock()
    store = await open_sql(clock=gate)
    convs = [new_conversation() for _ in range(40)]
    for conv in convs:
        await store.create_conversation(conv)
    first = await _queued(store.append(convs[0].id, [new_message()]))
    await gate.wait_entered()
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        batch = await _queued(
            *(
                store.append(c.id, [new_message(client_message_id=f"c-{i}"), new_message()], snapshot())
                for i, c in enumerate(convs)
            )
        )
        gate.release.set()
        await asyncio.gather(*first)
        await asyncio.gather(*batch)
    finally:
        event.remove(Engine, "before_cursor_execute", count)

    assert store.stats.max_batch == 40
    assert len(statements) < 20, statements  # 40 appends of 2 rows: was 8 statements each
    # A batch in which nothing raises needs no savepoint: those are for isolating a failure.
    assert not [s for s in statements if "SAVEPOINT" in s.upper()], statements


async def test_a_write_that_raises_is_isolated_after_the_batch_is_rolled_back(
    open_sql: OpenSql, new_conversation: NewConv, new_message: NewMsg
) -> None:
    gate = GatedClock()
    store = await open_sql(clock=gate)
    a, b = new_conversation(), new_conversation()
    await store.create_conversation(a)
    first = await _queued(store.append(a.id, [new_message()]))
    await gate.wait_entered()

    # Written first without savepoints, the duplicate create raises after the append before it
    # ran: that attempt is rolled back whole and the batch written again, run by run.
    batch = await _queued(
        store.append(a.id, [new_message(client_message_id="c-1")]),
        store.create_conversation(a),
        store.create_conversation(b),
        store.append(b.id, [new_message()]),
    )
    gate.release.set()
    await asyncio.gather(*first)
    appended, duplicate, created, appended_b = await asyncio.gather(*batch, return_exceptions=True)

    assert type(duplicate).__name__ == "ConversationExists"
    assert created is None and store.stats.failed_commits == 0
    assert [m.seq for m in appended + appended_b] == [2, 1]  # type: ignore[operator]
    assert [m.client_message_id for m in await store.messages(a.id)] == [None, "c-1"]  # stored once
    assert [m.seq for m in await store.messages(b.id)] == [1]


async def test_data_survives_close_and_reopen(
    open_sql: OpenSql, new_conversation: NewConv, new_message: NewMsg, snapshot: Snap
) -> None:
    store = await open_sql()
    conv = new_conversation()
    await store.create_conversation(conv)
    await store.append(conv.id, [new_message(text="你好"), new_message(client_message_id="c-1")], snapshot())
    await store.upsert_demo_orders(
        [
            {
                "order_id": "A1",
                "status": "运输中",
                "carrier": "顺丰",
                "tracking_no": "T1",
                "eta": "2024-06-03",
                "product": "茶",
            }
        ]
    )
    await store.close()

    reopened = await open_sql()

    assert [m.text for m in await reopened.messages(conv.id)] == ["你好", "我的快递到哪了？#2"]
    assert (await reopened.get_conversation(conv.id)).state == "ask_order"
    assert (await reopened.demo_order("A1") or {})["carrier"] == "顺丰"


async def test_resend_after_restart_is_answered_as_duplicate(
    open_sql: OpenSql, new_conversation: NewConv, new_message: NewMsg
) -> None:
    # Stands in for "crashed after COMMIT, before the caller heard back": the row is there.
    store = await open_sql()
    conv = new_conversation()
    await store.create_conversation(conv)
    await store.append(conv.id, [new_message(client_message_id="c-1")])
    await store.close()

    [resent] = await (await open_sql()).append(conv.id, [new_message(client_message_id="c-1")])

    assert resent.duplicate and resent.seq == 1


async def test_cancelled_append_still_commits_and_resend_is_duplicate(
    open_sql: OpenSql, new_conversation: NewConv, new_message: NewMsg
) -> None:
    gate = GatedClock()
    store = await open_sql(clock=gate)
    conv = new_conversation()
    await store.create_conversation(conv)
    [task] = await _queued(store.append(conv.id, [new_message(client_message_id="c-1")]))
    await gate.wait_entered()

    task.cancel()
    gate.release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    [resent] = await store.append(conv.id, [new_message(client_message_id="c-1")])  # FIFO: after the commit

    assert resent.duplicate and resent.seq == 1


async def test_close_drains_queued_writes(
    open_sql: OpenSql, new_conversation: NewConv, new_message: NewMsg
) -> None:
    gate = GatedClock()
    store = await open_sql(clock=gate)
    conv = new_conversation()
    await store.create_conversation(conv)
    tasks = await _queued(*(store.append(conv.id, [new_message()]) for _ in range(30)))
    await gate.wait_entered()

    [closing] = await _queued(store.close())
    gate.release.set()
    await closing

    assert all(len(r) == 1 for r in await asyncio.gather(*tasks))
    with pytest.raises(StorageError, match="closed"):
        await store.append(conv.id, [new_message()])
    assert len(await (await open_sql()).messages(conv.id)) == 30


async def test_two_stores_on_one_database_never_collide_on_seq(
    open_sql: OpenSql, new_conversation: NewConv, new_message: NewMsg
) -> None:
    # Two service processes: separate writers, one conversation, every client id sent to both.
    # The row lock (PostgreSQL) or BEGIN IMMEDIATE (SQLite) makes them take turns.
    one, two = await open_sql(), await open_sql()
    conv = new_conversation()
    await one.create_conversation(conv)

    stores = [one, two]
    await asyncio.gather(
        *(stores[i % 2].append(conv.id, [new_message(client_message_id=f"c-{i // 2}")]) for i in range(120))
    )

    stored = await one.messages(conv.id)
    assert [m.seq for m in stored] == list(range(1, 61))
    assert sorted(m.client_message_id or "" for m in stored) == sorted(f"c-{i}" for i in range(60))


async def test_a_page_and_its_total_come_from_one_snapshot(
    open_sql: OpenSql, database_url: str, new_conversation: NewConv
) -> None:
    # The read engine runs statements alone (autocommit); listing begins a transaction of its
    # own so that a conversation created between the count and the page shows in neither.
    store = await open_sql()
    for _ in range(3):
        await store.create_conversation(new_conversation())
    late = new_conversation()
    other = make_engine(database_url, pool_size=1)
    counted: list[str] = []

    def after_count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "count(" in statement and not counted:
            counted.append(statement)
            with other.begin() as writer:
                writer.execute(
                    INSERT_CONVERSATION,
                    {**asdict(late), "updated_at": late.created_at, "ended_at": None},
                )

    assert store._reader is not None
    event.listen(store._reader, "after_cursor_execute", after_count)
    try:
        page, total = await store.list_conversations(limit=50)
    finally:
        event.remove(store._reader, "after_cursor_execute", after_count)
        other.dispose()

    assert counted, "the count ran"
    assert (len(page), total) == (3, 3)
    assert (await store.list_conversations(limit=50))[1] == 4


@pytest.mark.postgres
async def test_a_write_after_postgresql_dropped_the_writers_connection_succeeds(
    migrated_postgres_url: str, new_conversation: NewConv, new_message: NewMsg
) -> None:
    # What a PostgreSQL restart does to a pooled connection. The writer does not ping before
    # every batch (a round trip per commit): the statement that finds the connection dead fails
    # the first attempt, and the batch is written again on a fresh connection.
    async with _store_with_one_message(migrated_postgres_url, new_conversation, new_message) as (store, conv):
        assert _terminate_other_backends(migrated_postgres_url) >= 1

        [after] = await store.append(conv.id, [new_message(client_message_id="after")])

        assert after.seq == 2 and not after.duplicate
        assert store.stats.failed_commits == 0
        assert [m.client_message_id for m in await store.messages(conv.id)] == ["before", "after"]


@pytest.mark.postgres
async def test_a_read_after_postgresql_dropped_the_readers_connections_succeeds(
    migrated_postgres_url: str, new_conversation: NewConv, new_message: NewMsg
) -> None:
    # The readers do not ping at checkout either (with autocommit, a read is one round trip):
    # a read that finds its pooled connection dead runs again on a fresh one.
    async with _store_with_one_message(migrated_postgres_url, new_conversation, new_message) as (store, conv):
        assert len(await store.messages(conv.id)) == 1  # the read pool now holds a connection
        assert _terminate_other_backends(migrated_postgres_url) >= 1

        assert [m.client_message_id for m in await store.messages(conv.id)] == ["before"]
        assert (await store.get_conversation(conv.id)).id == conv.id


@pytest.mark.postgres
async def test_postgresql_group_statements_look_each_key_up_in_an_index(
    migrated_postgres_url: str, new_conversation: NewConv, new_message: NewMsg
) -> None:
    # The planner guesses 100 rows for a JSON array function; as plain joins, the lock and the
    # client id look-up hashed whole tables of this size, on every commit.
    store = SqlTranscriptStore(migrated_postgres_url)
    await store.open()
    try:
        conversations = [new_conversation() for _ in range(2000)]
        await asyncio.gather(*(store.create_conversation(conv) for conv in conversations))
        await asyncio.gather(
            *(
                store.append(conv.id, [new_message(client_message_id=f"{conv.id}-{k}") for k in range(3)])
                for conv in conversations
            )
        )
    finally:
        await store.close()
    ids = json.dumps(sorted(conv.id for conv in conversations[:5]))
    keys = json.dumps([[conv.id, "new"] for conv in conversations[:5]])
    statements = GROUP_STATEMENTS["postgresql"]
    engine = make_engine(migrated_postgres_url, pool_size=1)
    try:
        with engine.connect() as conn:
            conn.execute(text("ANALYZE conversations, messages"))
            for statement in (statements.lock.params(ids=ids), statements.stored_by_client_ids.params(keys=keys)):
                sql = statement.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
                plan = "\n".join(conn.exec_driver_sql(f"EXPLAIN {sql}").scalars())
                assert "Seq Scan" not in plan and "Index" in plan, plan
    finally:
        engine.dispose()


@asynccontextmanager
async def _store_with_one_message(
    url: str, new_conversation: NewConv, new_message: NewMsg
) -> AsyncIterator[tuple[SqlTranscriptStore, NewConversation]]:
    """An open store on `url` holding one conversation with one message (client id "before")."""
    store = SqlTranscriptStore(url)
    await store.open()
    try:
        conv = new_conversation()
        await store.create_conversation(conv)
        await store.append(conv.id, [new_message(client_message_id="before")])
        yield store, conv
    finally:
        await store.close()


def _terminate_other_backends(url: str) -> int:
    """What a PostgreSQL restart does to pooled connections: every other session is dropped."""
    killer = make_engine(url, pool_size=1)
    with killer.begin() as conn:
        dropped = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()
    killer.dispose()
    return int(dropped or 0)


async def test_open_fails_clearly_when_the_database_is_unreachable(tmp_path: Path) -> None:
    store = SqlTranscriptStore(f"sqlite:///{tmp_path}/no/such/dir/x.db")
    with pytest.raises(StorageError, match="cannot reach database"):
        await store.open()


def test_sqlite_connections_use_wal_full_sync_and_foreign_keys(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert (conn.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0) >= 1000
    engine.dispose()
    path = sqlite_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as raw:  # WAL is a property of the file, not just our connections
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    raw.close()


def test_sqlite_writer_leaves_wal_checkpoints_to_the_checkpointer(sqlite_url: str) -> None:
    writer, reader = make_engine(sqlite_url, writer=True), make_engine(sqlite_url)
    with writer.connect() as w, reader.connect() as r:
        assert w.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == WRITER_AUTOCHECKPOINT_PAGES
        assert r.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000  # SQLite's default: reads never commit
    writer.dispose()
    reader.dispose()


async def test_the_checkpointer_copies_committed_pages_into_the_database_file(
    sqlite_url: str, tmp_path: Path, new_conversation: NewConv, new_message: NewMsg
) -> None:
    upgrade(sqlite_url)
    store = SqlTranscriptStore(sqlite_url, checkpoint_interval_s=0.02)
    await store.open()
    try:
        conv = new_conversation()
        await store.create_conversation(conv)
        await store.append(conv.id, [new_message(text="已提交") for _ in range(3)])

        def rows_in_the_file_alone() -> int:  # the database file copied without its -wal
            alone = tmp_path / "alone.db"
            alone.write_bytes(Path(sqlite_url.removeprefix("sqlite:///")).read_bytes())
            with closing(sqlite3.connect(alone)) as raw:
                try:
                    return int(raw.execute("SELECT count(*) FROM messages WHERE text = '已提交'").fetchone()[0])
                except sqlite3.OperationalError:  # not even the schema checkpointed yet
                    return 0

        for _ in range(100):  # up to ~5 s
            if rows_in_the_file_alone() == 3:
                break
            await asyncio.sleep(0.05)
        assert rows_in_the_file_alone() == 3
        assert store.stats.checkpoints >= 1
    finally:
        await store.close()
    assert "huashu-wal-checkpoint" not in {thread.name for thread in threading.enumerate()}


def test_sqlite_savepoints_roll_back_inside_the_transaction(sqlite_url: str) -> None:
    # Guards the BEGIN recipe in database.py: with sqlite3's default handling, a SAVEPOINT
    # outside a BEGIN would commit on its own.
    engine = make_engine(sqlite_url, writer=True)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    with engine.connect() as conn:
        with conn.begin() as outer:
            with conn.begin_nested():
                conn.exec_driver_sql("INSERT INTO t VALUES (1)")
            outer.rollback()
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 0
    engine.dispose()


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://u:p@db/huashu", "postgresql+psycopg"),
        ("postgres://u:p@db/huashu", "postgresql+psycopg"),
        ("postgresql+asyncpg://u:p@db/huashu", "postgresql+psycopg"),
        ("postgresql+psycopg://u:p@db/huashu", "postgresql+psycopg"),
        ("sqlite+aiosqlite:///data/huashu.db", "sqlite"),
        ("sqlite:///data/huashu.db", "sqlite"),
    ],
)
def test_urls_map_to_the_synchronous_driver(given: str, driver: str) -> None:
    url = parse_url(given)
    assert url.drivername == driver
    assert url.database in ("huashu", "data/huashu.db")


@pytest.mark.parametrize("given", ["sqlite://", "sqlite:///:memory:", "mysql://u@h/db", "not a url"])
def test_unsupported_urls_are_refused(given: str) -> None:
    with pytest.raises(StorageError):
        parse_url(given)


def test_mask_url_hides_the_password() -> None:
    masked = mask_url("postgresql+psycopg://huashu:s3cret@db.internal:5432/huashu")
    assert "s3cret" not in masked and masked == "postgresql+psycopg://huashu:***@db.internal:5432/huashu"
