"""A NUL character in text is refused the same way on SQLite and PostgreSQL (issue 16 item 6): PostgreSQL
cannot store it in text, SQLite can; so every store answers `invalid_field` and nothing half-stored stays."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.wire import ALICE, Connect, only

pytestmark = pytest.mark.timeout(60)


def test_a_message_with_nul_is_refused_once_and_the_conversation_goes_on(connect: Connect, client: TestClient) -> None:
    with connect.started() as (customer, frames):
        conversation_id = only(frames, "started")["conversation_id"]
        error = only(customer.exchange({"type": "message", "id": "m-1", "text": "我要退货\u0000"}), "error")
        assert error["code"] == "invalid_field" and "NUL" in error["message"]  # final: the client does not resend
        acked = customer.exchange({"type": "message", "id": "m-2", "text": "我要退货"})
        assert only(acked, "ack")["id"] == "m-2"
    stored = client.get(f"/api/conversations/{conversation_id}", headers=ALICE).json()["messages"]
    assert [m["text"] for m in stored if m["role"] == "customer"] == ["我要退货"]


def test_a_customer_name_with_nul_starts_no_conversation(connect: Connect, client: TestClient) -> None:
    before = client.get("/api/conversations", headers=ALICE).json()["total"]
    with connect.customer() as customer:
        error = only(customer.exchange({"type": "start", "customer": {"name": "张\u0000三"}}), "error")
        assert error["code"] == "invalid_field" and error["message"].startswith("customer.name")
        only(customer.exchange({"type": "start", "customer": {"name": "张三"}}), "started")
    assert client.get("/api/conversations", headers=ALICE).json()["total"] == before + 1  # no empty row


def test_rest_bodies_with_nul_are_refused(client: TestClient) -> None:
    answer = client.post("/api/analyze", json={"text": "退货\u0000"})
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_field"
