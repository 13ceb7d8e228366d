"""Long conversations are read a page at a time (issue 16 item 2): REST, `resume`'s history and the agent's
snapshot, with every message once and in order."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.api.messages import HISTORY_PAGE
from tests.api.wire import ALICE, Connect, Socket, only

pytestmark = pytest.mark.timeout(180)
CUSTOMER_MESSAGES = 130  # each also stores the bot's lines: well over one page of 200


@pytest.fixture
def long_conversation(connect: Connect) -> dict[str, Any]:
    with connect.customer() as customer:
        started = only(customer.exchange({"type": "start", "mode": "human"}), "started")  # no bot lines
        for number in range(CUSTOMER_MESSAGES):
            customer.send({"type": "message", "id": f"m-{number}", "text": f"第{number}条"})
        customer.barrier()
        for number in range(CUSTOMER_MESSAGES):  # a second round: 260 customer lines in all
            customer.send({"type": "message", "id": f"n-{number}", "text": f"再{number}"})
        customer.barrier()
    return started


def _all_pages(socket: Socket, first: dict[str, Any]) -> list[dict[str, Any]]:
    messages = list(first["messages"])
    frame = first
    while frame["more"]:
        frame = only(socket.exchange({"type": "history", "after_seq": frame["next_after_seq"]}), "history")
        assert len(frame["messages"]) <= HISTORY_PAGE
        messages += frame["messages"]
    return messages


def test_rest_reads_a_page_at_a_time(client: TestClient, long_conversation: dict[str, Any]) -> None:
    path = f"/api/conversations/{long_conversation['conversation_id']}"
    first = client.get(path, headers=ALICE).json()
    assert len(first["messages"]) == 200 and first["has_more"]
    seen, after = [], 0
    while True:
        page = client.get(path, params={"after_seq": after, "limit": 150}, headers=ALICE).json()
        seen += [m["seq"] for m in page["messages"]]
        if not page["has_more"]:
            break
        after = page["next_after_seq"]
    assert seen == list(range(1, len(seen) + 1))  # every stored message once, in order
    assert sum(1 for _ in seen) > 2 * CUSTOMER_MESSAGES


def test_resume_sends_history_in_pages_without_gaps_or_repeats(connect: Connect,
                                                               long_conversation: dict[str, Any]) -> None:
    resume = {"type": "resume", "conversation_id": long_conversation["conversation_id"],
              "token": long_conversation["token"], "last_seq": 0}
    with connect.customer() as customer:
        first = only(customer.exchange(resume), "history")
        assert first["more"] and len(first["messages"]) <= HISTORY_PAGE
        messages = _all_pages(customer, first)
    texts = [m["text"] for m in messages if m["role"] == "customer"]
    assert texts == [f"第{n}条" for n in range(CUSTOMER_MESSAGES)] + [f"再{n}" for n in range(CUSTOMER_MESSAGES)]
    seqs = [m["seq"] for m in messages]
    assert seqs == sorted(set(seqs))


def test_the_agent_snapshot_pages_too(connect: Connect, long_conversation: dict[str, Any]) -> None:
    with connect.agent(long_conversation["conversation_id"]) as agent:
        snapshot = agent.receive()
        assert snapshot["type"] == "snapshot" and snapshot["more"] and len(snapshot["messages"]) == HISTORY_PAGE
        agent.barrier()
        messages = _all_pages(agent, snapshot)
    assert sum(1 for m in messages if m["role"] == "customer") == 2 * CUSTOMER_MESSAGES


def test_history_before_a_conversation_is_refused(connect: Connect) -> None:
    with connect.customer() as customer:
        assert only(customer.exchange({"type": "history", "after_seq": 0}), "error")["code"] == "not_started"
