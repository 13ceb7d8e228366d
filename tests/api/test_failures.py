"""When the script or the database fails: error frames, nothing acked is lost, the socket stays open.

The engine is wrapped (not replaced) so one magic text makes it fail the way a defective flow or a
bug would; what is under test is the service and the edge around it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.engine.conversation import Conversation
from app.engine.events import CustomerSaid, Event
from app.engine.step import Engine, StepResult
from app.errors import StepLimitExceeded
from tests.api.wire import ALICE, Connect, only

pytestmark = pytest.mark.timeout(60)

LOOPING, CRASHING = "让流程打转", "让程序崩溃"


class FaultyEngine:
    """The real engine, except for two texts: one trips the step limit, one raises a plain bug."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    def step(self, conversation: Conversation, event: Event) -> StepResult:
        if isinstance(event, CustomerSaid) and event.text == LOOPING:
            raise StepLimitExceeded("flow 'default' moved more than 16 times in one step")
        if isinstance(event, CustomerSaid) and event.text == CRASHING:
            raise RuntimeError("bug")
        return self._engine.step(conversation, event)


@pytest.fixture
def faulty(make_client: Callable[..., TestClient], sqlite_url: str) -> TestClient:
    client = make_client(sqlite_url)
    service = client.app.state.huashu.conversations  # type: ignore[attr-defined]
    service.engine = FaultyEngine(service.engine)
    return client


def test_script_failure_keeps_and_acks_the_message_then_reports_engine_error(faulty: TestClient) -> None:
    with Connect(faulty).started() as (customer, frames):
        conversation_id = only(frames, "started")["conversation_id"]
        ack, error = customer.exchange({"type": "message", "id": "c-1", "text": LOOPING})
        assert ack == {"type": "ack", "id": "c-1", "seq": ack["seq"], "replies": 0}
        assert (error["type"], error["code"], error["ref"]) == ("error", "engine_error", "c-1")
        assert customer.exchange({"type": "message", "id": "c-1", "text": LOOPING}) == [
            ack
        ]  # stored, so deduplicated
        assert only(
            customer.exchange({"type": "message", "id": "c-2", "text": "请问七天无理由退货怎么办理?"}), "ack"
        )
    messages = faulty.get(f"/api/conversations/{conversation_id}", headers=ALICE).json()["messages"]
    assert [m["text"] for m in messages if m["role"] == "customer"] == [
        LOOPING,
        "请问七天无理由退货怎么办理?",
    ]


def test_unexpected_error_is_internal_error_and_nothing_is_stored(faulty: TestClient) -> None:
    with Connect(faulty).started() as (customer, frames):
        conversation_id = only(frames, "started")["conversation_id"]
        error = only(customer.exchange({"type": "message", "id": "c-1", "text": CRASHING}), "error")
        assert (error["code"], error["ref"]) == ("internal_error", "c-1")
        assert "bug" not in error["message"]  # internals stay in the log
        assert only(customer.exchange({"type": "message", "id": "c-2", "text": "你好"}), "ack")
    messages = faulty.get(f"/api/conversations/{conversation_id}", headers=ALICE).json()["messages"]
    assert [m["client_message_id"] for m in messages if m["role"] == "customer"] == ["c-2"]


def test_database_failure_is_unavailable_and_the_message_is_not_acked(
    make_client: Callable[..., TestClient], sqlite_url: str
) -> None:
    client = make_client(sqlite_url)
    with Connect(client).started() as (customer, _):
        store = client.app.state.huashu.store  # type: ignore[attr-defined]
        assert client.portal is not None
        client.portal.call(store.close)  # the database goes away under a live conversation
        error = only(customer.exchange({"type": "message", "id": "c-1", "text": "你好"}), "error")
        assert (error["code"], error["ref"]) == ("unavailable", "c-1")
        assert customer.exchange({"type": "ping"}) == []  # still open
