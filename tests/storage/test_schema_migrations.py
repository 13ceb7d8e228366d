"""Migrations: the schema they build equals tables.py on both backends, and the opening policy."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

import app.storage.tables  # noqa: F401 - registers the tables on SQLModel.metadata
from app.errors import NotMigrated
from app.storage.database import make_engine
from app.storage.memory import MemoryTranscriptStore
from app.storage.migrate import (
    current_revision,
    downgrade,
    ensure_migrated,
    head_revision,
    open_store,
    upgrade,
)
from app.storage.sql import SqlTranscriptStore

TABLES = ("conversations", "messages", "demo_orders", "ratings", "commitments", "complaints")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database that has never been migrated, on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    make_database: Callable[[], str] = request.getfixturevalue("postgres_databases")
    return make_database()


def _drift(url: str, metadata: sa.MetaData) -> list[object]:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def _inspect(url: str) -> dict[str, object]:
    engine = make_engine(url, pool_size=1)
    try:
        inspector = sa.inspect(engine)
        return {
            table: {
                "columns": {c["name"]: c["nullable"] for c in inspector.get_columns(table)},
                "indexes": {
                    i["name"]: tuple(i["column_names"])
                    for i in inspector.get_indexes(table)
                    if not i.get("duplicates_constraint")
                },
                "unique": {
                    u["name"]: tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)
                },
            }
            for table in TABLES
        }
    finally:
        engine.dispose()


def _expected() -> dict[str, object]:
    return {
        table.name: {
            "columns": {c.name: c.nullable for c in table.columns},
            "indexes": {i.name: tuple(c.name for c in i.columns) for i in table.indexes},
            "unique": {
                u.name: tuple(c.name for c in u.columns)
                for u in table.constraints
                if isinstance(u, sa.UniqueConstraint)
            },
        }
        for table in SQLModel.metadata.sorted_tables
        if table.name in TABLES
    }


def test_migrated_schema_matches_the_table_models(empty_database: str) -> None:
    upgrade(empty_database)

    assert _drift(empty_database, SQLModel.metadata) == []  # columns, types, nullability, indexes, FKs
    assert _inspect(empty_database) == _expected()  # the same, spelled out by name


def test_the_drift_check_notices_a_difference(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'drift.db'}"
    upgrade(url)
    changed = sa.MetaData()
    for table in SQLModel.metadata.sorted_tables:
        table.to_metadata(changed)
    sa.Index("ix_conversations_agent", changed.tables["conversations"].c.agent)
    changed.tables["messages"].c.text.type = sa.String()

    kinds = {diff[0][0] if isinstance(diff, list) else diff[0] for diff in _drift(url, changed)}  # type: ignore[index]

    assert kinds == {"add_index", "modify_type"}


def test_fresh_database_has_no_revision_until_upgraded(empty_database: str) -> None:
    assert current_revision(empty_database) is None
    upgrade(empty_database)
    assert current_revision(empty_database) == head_revision() == "0002"


def test_ensure_migrated_refuses_an_unmigrated_database_then_passes(empty_database: str) -> None:
    url = make_url(empty_database).set(password="s3cret").render_as_string(hide_password=False)

    with pytest.raises(NotMigrated) as refused:
        ensure_migrated(url)

    message = str(refused.value)
    assert "is not migrated (current: none, expected: 0002): run `huashu db upgrade`" in message
    assert "s3cret" not in message
    if url.startswith("postgresql"):  # trust auth ignores the password; SQLite URLs have none
        assert "***@" in message
    upgrade(url)
    ensure_migrated(url)


def test_ensure_migrated_names_a_revision_from_a_newer_huashu(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    upgrade(url)
    engine = make_engine(url, pool_size=1)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()

    with pytest.raises(NotMigrated, match="revision 9999, which this version of Huashu does not know"):
        ensure_migrated(url)


def test_downgrade_to_base_empties_and_upgrade_rebuilds(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'down.db'}"
    upgrade(url)
    downgrade(url, "base")
    assert current_revision(url) is None
    engine = make_engine(url, pool_size=1)
    assert set(sa.inspect(engine).get_table_names()) == {"alembic_version"}
    engine.dispose()
    upgrade(url)
    assert _drift(url, SQLModel.metadata) == []


async def test_upgrading_a_0001_database_keeps_its_conversations_and_adds_aftercare(empty_database: str) -> None:
    upgrade(empty_database, "0001")
    engine = make_engine(empty_database, pool_size=1)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO conversations (id, flow, flow_version, channel, mode, state, slots, counters, token_hash, "
            "created_at, updated_at) VALUES ('old', 'default', '1', 'online', 'bot', 'listen', '{}', '{}', 'h', "
            "'2026-11-01 08:00:00+00:00', '2026-11-01 08:00:00+00:00')"))
    engine.dispose()

    upgrade(empty_database)
    store = SqlTranscriptStore(empty_database)
    await store.open()
    try:
        assert (await store.get_conversation("old")).flow == "default"
        assert await store.rating("old") is None and await store.complaint_for("old") is None
    finally:
        await store.close()
    downgrade(empty_database, "0001")  # and back: the aftercare tables go, the conversations stay
    engine = make_engine(empty_database, pool_size=1)
    try:
        assert {"ratings", "commitments", "complaints"}.isdisjoint(sa.inspect(engine).get_table_names())
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM conversations")).scalar() == 1
    finally:
        engine.dispose()


async def test_open_store_upgrades_sqlite_by_itself(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'nested' / 'huashu.db'}"

    store = await open_store(url)
    try:
        assert isinstance(store, SqlTranscriptStore)
        assert await store.list_conversations() == ([], 0)
    finally:
        await store.close()
    assert current_revision(url) == head_revision()


@pytest.mark.postgres
async def test_open_store_refuses_an_unmigrated_postgres(postgres_databases: Callable[[], str]) -> None:
    url = postgres_databases()
    with pytest.raises(NotMigrated, match="run `huashu db upgrade`"):
        await open_store(url)
    assert current_revision(url) is None  # refused, not silently migrated

    upgrade(url)
    store = await open_store(url)
    await store.close()


async def test_open_store_gives_the_memory_twin_for_memory_urls() -> None:
    store = await open_store("memory://")
    assert isinstance(store, MemoryTranscriptStore)
    await store.close()


def test_the_message_shape_is_declared_once() -> None:
    # NewMessage declares the columns, StoredMessage adds where and when; the table must hold exactly
    # those (plus its surrogate id), so the stores can build rows and messages from the field names.
    from app.storage.models import NEW_MESSAGE_FIELDS, STORED_MESSAGE_FIELDS, NewMessage, StoredMessage
    from app.storage.tables import MessageRecord

    columns = {column.name for column in MessageRecord.__table__.columns} - {"id"}  # type: ignore[attr-defined]
    assert columns == set(STORED_MESSAGE_FIELDS)
    assert set(NEW_MESSAGE_FIELDS) < set(STORED_MESSAGE_FIELDS) and issubclass(StoredMessage, NewMessage)
