"""Schemathesis over the OpenAPI spec (issue 16, "Done means"): every REST operation, fed data generated
from its own schema, with and without agent credentials, never answers 5xx. Bounded to stay fast in CI.

The operations are walked here rather than through schemathesis's pytest plugin, which does not load under
this project's pytest; each one still runs its own Hypothesis search."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from app.config import Settings
from app.main import create_app
from tests.api.wire import AGENT_TOKENS, ALICE

pytestmark = pytest.mark.timeout(600)
EXAMPLES_PER_OPERATION = 20


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    database = tmp_path_factory.mktemp("openapi") / "huashu.db"
    application = create_app(Settings(database_url=f"sqlite:///{database}", agent_tokens=AGENT_TOKENS,
                                      redis_url=None, new_conversations_per_minute=100_000))
    with TestClient(application):  # the lifespan runs: services, store, engine
        yield application


def test_no_operation_answers_a_server_error(app: FastAPI) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:

        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=dict(ALICE), checks=[not_a_server_error])  # a copy: it is written to
            case.call_and_validate(checks=[not_a_server_error])  # and without credentials

        check()
