"""Database URLs and synchronous SQLAlchemy engines for SQLite and PostgreSQL.

The store runs blocking drivers in its own threads (see `writer.py`), so every URL is mapped
to a synchronous driver: `postgresql://`, `postgres://` and `postgresql+asyncpg://` become
`postgresql+psycopg://` (psycopg 3 is a dependency, asyncpg is not, and one driver means one
set of type conversions), and `sqlite+aiosqlite://` becomes `sqlite://`. Settings may keep
an async-looking URL that other tools share; it still points at the same database.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from app.errors import StorageError

SQLITE_BUSY_TIMEOUT_MS = 10_000
# The SQLite writer's own WAL checkpoint threshold, a safety net: `WalCheckpointer` checkpoints
# off the commit path long before (SQLite's default, 1,000 pages, put it in the commit path).
WRITER_AUTOCHECKPOINT_PAGES = 16_384  # 64 MB of 4 KiB pages
POSTGRES_CONNECT_TIMEOUT_S = 10

_DRIVER_MAP = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
    "postgresql+psycopg2": "postgresql+psycopg",
    "postgresql+asyncpg": "postgresql+psycopg",
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
    "sqlite+aiosqlite": "sqlite",
}


def parse_url(url: str | URL) -> URL:
    """The URL with its driver mapped to the synchronous one we use; StorageError if unsupported."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StorageError(f"not a database URL: {exc}") from exc
    driver = _DRIVER_MAP.get(parsed.drivername)
    if driver is None:
        raise StorageError(
            f"unsupported database URL scheme {parsed.drivername!r}: use sqlite:///path or postgresql+psycopg://…"
        )
    parsed = parsed.set(drivername=driver)
    if driver == "sqlite" and parsed.database in (None, "", ":memory:"):
        # Each pooled connection would get its own empty database; the memory store is the tool for that.
        raise StorageError("in-memory SQLite is not supported: use a file path or MemoryTranscriptStore")
    return parsed


def is_sqlite(url: str | URL) -> bool:
    return parse_url(url).get_backend_name() == "sqlite"


def mask_url(url: str | URL) -> str:
    """The URL for messages and logs, password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


class JsonText(str):
    """JSON the caller has already encoded (`models.json_text`): a JSON column stores it as is.

    The store encodes each value once, on the caller's side, to refuse bad values before they are
    queued; without this marker SQLAlchemy's JSON type would encode the text again, as a string.
    """

    __slots__ = ()


def _json_dumps(value: Any) -> str:
    if type(value) is JsonText:
        return str(value)  # a plain str: drivers need not know the subclass
    # Chinese stays readable in the database (sqlite3 shell, psql) instead of \\uXXXX escapes.
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def make_engine(url: str | URL, *, writer: bool = False, reader: bool = False, pool_size: int = 4) -> Engine:
    """A synchronous engine with our connection settings.

    Args:
        url: any URL `parse_url` accepts.
        writer: the engine of the store's single writer thread. SQLite: start transactions with
            BEGIN IMMEDIATE so the writer takes the write lock up front instead of failing to
            upgrade a read lock later, and leave WAL checkpoints to `WalCheckpointer`
            (`app/storage/checkpoint.py`). PostgreSQL: no ping at checkout (see below).
        reader: the engine of the store's reads, in autocommit: each statement reads its own
            snapshot, and a read that needs one snapshot for several statements begins a
            transaction itself (`SqlTranscriptStore.list_conversations`). PostgreSQL: a read is
            one round trip instead of four (ping, BEGIN, the statement, ROLLBACK at check-in), and
            the store reads again on a fresh connection when the pooled one was dropped. SQLite:
            no BEGIN and ROLLBACK statements around each read.
        pool_size: connections kept open.
    """
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            parsed,
            json_serializer=_json_dumps,
            pool_size=pool_size,
            max_overflow=pool_size,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        )
        _configure_sqlite(
            engine,
            begin="BEGIN IMMEDIATE" if writer else None if reader else "BEGIN",
            # The writer leaves checkpoints to `WalCheckpointer`, off the commit path.
            autocheckpoint_pages=WRITER_AUTOCHECKPOINT_PAGES if writer else None,
        )
        return engine
    return create_engine(
        parsed,
        json_serializer=_json_dumps,
        pool_size=pool_size,
        max_overflow=pool_size,
        # A PostgreSQL restart must not fail the first read or write after it. The store's engines
        # do not ping at checkout (a round trip each time): a batch that finds its connection dead
        # is written again on a fresh one (`GroupCommitWriter`), a read is read again
        # (`SqlTranscriptStore._read`). Other engines (migrations, tools) ping.
        pool_pre_ping=not (writer or reader),
        isolation_level="AUTOCOMMIT" if reader else None,
        connect_args={"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S},
    )


def _configure_sqlite(engine: Engine, *, begin: str | None, autocheckpoint_pages: int | None) -> None:
    """Pragmas on every connection; `begin` is what SQLAlchemy's begin emits (None: nothing, so
    statements run in sqlite3's autocommit mode and `BEGIN` is the caller's to emit)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # sqlite3's own implicit BEGIN skips SELECT and SAVEPOINT, which breaks savepoints inside
        # transactions; we emit BEGIN ourselves (SQLAlchemy's documented recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
            cursor.execute("PRAGMA synchronous=FULL")  # a returned append survives power loss
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            if autocheckpoint_pages is not None:
                cursor.execute(f"PRAGMA wal_autocheckpoint={autocheckpoint_pages}")
        finally:
            cursor.close()

    if begin is None:
        return

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)
