"""Shared database fixtures (keep this file for fixtures every test folder may want)."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from app.storage.database import mask_url, parse_url

POSTGRES_URL_ENV = "HUASHU_TEST_POSTGRES_URL"
REQUIRE_POSTGRES_ENV = "HUASHU_REQUIRE_POSTGRES"
# Trust auth on the dev machines and CI; the `postgres` role may CREATE DATABASE.
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
MODEL_CACHE_ENV = "HUASHU_MODEL_CACHE"
_model_cache_key = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    """Fitted intent models go to a folder of this run (shared with the servers the tests start),
    never to the developer's cache: every run fits each pack once and starts clean."""
    config.stash[_model_cache_key] = folder = tempfile.mkdtemp(prefix="huashu-test-models-")
    os.environ[MODEL_CACHE_ENV] = folder


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(_model_cache_key, None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[Callable[[], str]]:
    """Factory of fresh, uniquely named, empty PostgreSQL databases; all dropped at session end.

    The server comes from $HUASHU_TEST_POSTGRES_URL (any database on it; used as the admin
    connection). Unreachable server: skip, or fail when $HUASHU_REQUIRE_POSTGRES=1 (CI).
    """
    admin_url: URL = parse_url(os.environ.get(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL))
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "no server to test against"
        admin.dispose()
        message = (
            f"PostgreSQL at {mask_url(admin_url)} is unreachable ({type(exc).__name__}: {exc}). "
            f"Start it or set {POSTGRES_URL_ENV}."
        )
        if os.environ.get(REQUIRE_POSTGRES_ENV) == "1":
            pytest.fail(f"{REQUIRE_POSTGRES_ENV}=1 but {message}", pytrace=False)
        pytest.skip(message)

    created: list[str] = []

    def make() -> str:
        name = f"huashu_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return admin_url.set(database=name).render_as_string(hide_password=False)

    try:
        yield make
    finally:
        with admin.connect() as conn:
            for name in created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# ---------------------------------------------------------------- engine

@pytest.fixture(scope="session")
def engine():  # type: ignore[no-untyped-def]
    """The real engine over the shipped flows/ and scripts_zh/ (content and NLU load once per session)."""
    from app.config import Settings
    from app.runtime import build_engine

    return build_engine(Settings())
