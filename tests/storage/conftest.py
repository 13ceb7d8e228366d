"""Fixtures for the storage tests: one store factory per backend, and domain object factories."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from app.storage.database import make_engine
from app.storage.memory import MemoryTranscriptStore
from app.storage.migrate import upgrade
from app.storage.models import ConversationSnapshot, NewConversation, NewMessage, hash_token
from app.storage.sql import SqlTranscriptStore
from app.storage.store import TranscriptStore

T0 = datetime(2024, 6, 1, 9, 0, tzinfo=UTC)
MakeStore = Callable[[], Awaitable[TranscriptStore]]

BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
SQL_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture
def t0() -> datetime:
    """The default `created_at` of `new_conversation()`; messages follow it second by second."""
    return T0


@pytest.fixture(scope="session")
def migrated_postgres_url(postgres_databases: Callable[[], str]) -> str:
    """One migrated database per session; `database_url` empties it before each test."""
    url = postgres_databases()
    upgrade(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'huashu.db'}"


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, sqlite_url: str) -> str | None:
    """A migrated, empty database for the test's backend (None for memory).

    Modules that only make sense on SQL override `backend` with `SQL_BACKENDS`.
    """
    if backend == "memory":
        return None
    if backend == "sqlite":
        upgrade(sqlite_url)
        return sqlite_url
    url: str = request.getfixturevalue("migrated_postgres_url")
    engine = make_engine(url, pool_size=1)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE conversations, messages, demo_orders RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make_store(database_url: str | None) -> AsyncIterator[MakeStore]:
    """Factory of opened stores on this test's database; every store is closed after the test.

    For SQL backends each call is a new store on the same database (a "restart"); for memory
    each call is a new, empty twin.
    """
    opened: list[TranscriptStore] = []

    async def make() -> TranscriptStore:
        store: TranscriptStore = (
            MemoryTranscriptStore() if database_url is None else SqlTranscriptStore(database_url)
        )
        await store.open()
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.close()


@pytest.fixture
async def store(make_store: MakeStore) -> TranscriptStore:
    return await make_store()


@pytest.fixture
def new_conversation() -> Callable[..., NewConversation]:
    def make(**overrides: Any) -> NewConversation:
        values: dict[str, Any] = {
            "id": uuid.uuid4().hex,
            "flow": "parcel",
            "flow_version": "1",
            "channel": "online",
            "mode": "bot",
            "state": "start",
            "slots": {},
            "counters": {"turns": 0},
            "customer": {"name": "王女士"},
            "token_hash": hash_token("secret-token"),
            "created_at": T0,
        }
        values.update(overrides)
        return NewConversation(**values)

    return make


@pytest.fixture
def new_message() -> Callable[..., NewMessage]:
    counter = iter(range(1, 1_000_000))

    def make(**overrides: Any) -> NewMessage:
        n = next(counter)
        values: dict[str, Any] = {
            "role": "customer",
            "text": f"我的快递到哪了？#{n}",
            "state_before": "start",
            "state_after": "start",
            "intent": None,
            "phrase_id": None,
            "suggestions": [],
            "client_message_id": None,
            "events": [{"type": "CustomerSaid", "text": f"我的快递到哪了？#{n}"}],
            "created_at": T0 + timedelta(seconds=n),
        }
        values.update(overrides)
        return NewMessage(**values)

    return make


@pytest.fixture
def snapshot() -> Callable[..., ConversationSnapshot]:
    def make(**overrides: Any) -> ConversationSnapshot:
        values: dict[str, Any] = {
            "state": "ask_order",
            "slots": {},
            "counters": {"turns": 1},
            "mode": "bot",
            "ended_at": None,
            "agent": None,
        }
        values.update(overrides)
        return ConversationSnapshot(**values)

    return make
