"""Schema migrations (Alembic, configured in code) and the policy for opening a store.

`huashu db upgrade` calls `upgrade(url)`. Policy of `open_store`: a SQLite file is a local,
single-owner database, so it is upgraded automatically; a PostgreSQL database is shared and
upgraded deliberately by an operator, so the service refuses to start on an old schema.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from app.errors import NotMigrated, StorageError
from app.storage.database import is_sqlite, make_engine, mask_url, parse_url
from app.storage.memory import MemoryTranscriptStore
from app.storage.sql import SqlTranscriptStore
from app.storage.store import TranscriptStore

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MEMORY_URLS = frozenset({"memory", "memory://"})
# Any constant works; it only has to be the same in every process that migrates this database.
_PG_MIGRATION_LOCK = 0x68756173  # "huas"


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    # ConfigParser interpolation would eat a literal % in the install path.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The revision this code expects the database to be at."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships 0001
        raise StorageError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def current_revision(url: str | URL) -> str | None:
    """The database's revision, or None for a database that was never migrated."""
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot read the schema revision of {mask_url(parse_url(url))}: {exc}") from exc
    finally:
        engine.dispose()


def upgrade(url: str | URL, revision: str = "head") -> None:
    """Migrate the database at `url` up to `revision`, in one transaction."""
    _run(url, lambda config: command.upgrade(config, revision))


def downgrade(url: str | URL, revision: str) -> None:
    """Migrate the database at `url` down to `revision` ("base" empties it)."""
    _run(url, lambda config: command.downgrade(config, revision))


def _run(url: str | URL, step: Callable[[Config], None]) -> None:
    # writer=True: on SQLite BEGIN IMMEDIATE makes two processes migrating at once take turns.
    engine = make_engine(url, writer=True, pool_size=1)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
            step(_config(conn))
    except (SQLAlchemyError, CommandError) as exc:
        raise StorageError(f"migrating {mask_url(parse_url(url))} failed: {exc}") from exc
    finally:
        engine.dispose()


def ensure_migrated(url: str | URL) -> None:
    """Raise `NotMigrated` unless the database is exactly at `head_revision()`."""
    current = current_revision(url)
    expected = head_revision()
    if current == expected:
        return
    where = mask_url(parse_url(url))
    known = {script.revision for script in ScriptDirectory.from_config(_config()).walk_revisions()}
    if current is not None and current not in known:
        raise NotMigrated(
            f"database {where} is at revision {current}, which this version of Huashu does not know "
            f"(expected: {expected}): it was migrated by a newer Huashu"
        )
    raise NotMigrated(
        f"database {where} is not migrated (current: {current or 'none'}, expected: {expected}): "
        "run `huashu db upgrade`"
    )


async def open_store(url: str) -> TranscriptStore:
    """An opened store for `url`, after applying the migration policy in the module docstring.

    `memory://` gives a `MemoryTranscriptStore`. For SQLite the file's folder is created.
    """
    store: TranscriptStore
    if url in MEMORY_URLS:
        store = MemoryTranscriptStore()
    elif is_sqlite(url):
        database = parse_url(url).database
        if database and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(upgrade, url)
        store = SqlTranscriptStore(url)
    else:
        await asyncio.to_thread(ensure_migrated, url)
        store = SqlTranscriptStore(url)
    await store.open()
    return store
