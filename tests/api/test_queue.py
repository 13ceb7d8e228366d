"""`/ws/queue`: the agents' live queue, pushed (TestClient; SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.wire import ALICE, Connect, Socket, only

pytestmark = pytest.mark.timeout(60)



def test_a_hand_off_reaches_the_queue_with_the_customers_line(connect: Connect, client: TestClient) -> None:
    with client.websocket_connect("/ws/queue", headers=dict(ALICE)) as session:
        agents = Socket(session)
        snapshot = agents.receive()
        assert snapshot["type"] == "queue"
        with connect.started(customer={"name": "王女士"}) as (customer, frames):
            conversation_id = only(frames, "started")["conversation_id"]
            started = agents.receive()
            assert started["type"] == "queue_item" and started["item"]["conversation_id"] == conversation_id
            customer.exchange({"type": "message", "id": "c-1", "text": "我要转人工"})
            handed = agents.receive()["item"]

    assert (handed["conversation_id"], handed["awaiting_agent"], handed["stage"]) == (conversation_id, True, "hand-off")
    assert handed["last_customer_text"] == "我要转人工" and handed["customer"] == "王女士"
    assert handed["state_title"] == "转人工"


def test_the_snapshot_lists_open_conversations_with_their_last_line(connect: Connect, client: TestClient) -> None:
    with connect.started() as (customer, frames):
        conversation_id = only(frames, "started")["conversation_id"]
        customer.exchange({"type": "message", "id": "c-1", "text": "发票怎么开?"})
    with client.websocket_connect("/ws/queue", headers=dict(ALICE)) as session:
        items = Socket(session).receive()["items"]
    (item,) = [i for i in items if i["conversation_id"] == conversation_id]
    assert item["last_customer_text"] == "发票怎么开?" and item["mode"] == "bot" and not item["ended"]


def test_the_queue_needs_agent_credentials(client: TestClient) -> None:
    with client.websocket_connect("/ws/queue") as session:
        assert Socket(session).receive()["code"] == "unauthorized"


def test_a_ticket_without_a_conversation_opens_the_queue(client: TestClient) -> None:
    ticket = client.post("/api/agent/tickets", json={}, headers=ALICE).json()["ticket"]
    with client.websocket_connect(f"/ws/queue?ticket={ticket}") as session:
        assert Socket(session).receive()["type"] == "queue"
