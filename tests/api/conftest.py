"""Fixtures for the service tests: apps on SQLite or PostgreSQL (helpers live in `wire.py`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.storage.migrate import upgrade
from tests.api.wire import AGENT_TOKENS, BACKENDS, Connect

REDIS_URL = os.environ.get("HUASHU_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The local Redis; unreachable: skip, or fail when HUASHU_REQUIRE_REDIS=1 (CI)."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        message = f"Redis at {REDIS_URL} is unreachable ({exc}); start it or set HUASHU_TEST_REDIS_URL"
        if os.environ.get("HUASHU_REQUIRE_REDIS") == "1":
            pytest.fail(f"HUASHU_REQUIRE_REDIS=1 but {message}", pytrace=False)
        pytest.skip(message)
    return REDIS_URL


@pytest.fixture(scope="session")
def api_postgres_url(postgres_databases: Callable[[], str]) -> str:
    """One migrated PostgreSQL database for the service tests (conversation ids never collide)."""
    url = postgres_databases()
    upgrade(url)
    return url


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        url: str = request.getfixturevalue("api_postgres_url")
        return url
    return f"sqlite:///{tmp_path / 'huashu.db'}"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'huashu.db'}"


@pytest.fixture
def settings_for(tmp_path: Path) -> Callable[..., Settings]:
    def make(database_url: str | None = None, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": database_url or f"sqlite:///{tmp_path / 'huashu.db'}",
            "agent_tokens": AGENT_TOKENS,
            "rate_limit_per_minute": 10_000,
            "conversation_rate_per_minute": 100_000,
            "new_conversations_per_minute": 100_000,
            "redis_url": None,
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def make_client(settings_for: Callable[..., Settings]) -> Iterator[Callable[..., TestClient]]:
    """Factory of started apps (lifespan run); all shut down after the test."""
    started: list[TestClient] = []

    def make(database_url: str | None = None, **overrides: Any) -> TestClient:
        client = TestClient(create_app(settings_for(database_url, **overrides)))
        client.__enter__()
        started.append(client)
        return client

    yield make
    for client in reversed(started):
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient], database_url: str) -> TestClient:
    """The app on this test's backend (SQLite, and PostgreSQL when reachable)."""
    return make_client(database_url)


@pytest.fixture
def connect(client: TestClient) -> Connect:
    return Connect(client)
