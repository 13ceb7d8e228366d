"""The agent endpoint `/ws/assist/{id}`: credentials, snapshot, suggestions, and every agent command."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.api.wire import ALICE, Connect, Socket, of_type, only

pytestmark = pytest.mark.timeout(60)


def start(connect: Connect, customer: Socket, **frame: Any) -> str:
    return str(only(customer.exchange({"type": "start", **frame}), "started")["conversation_id"])


# ---------------------------------------------------------------- credentials


@pytest.mark.parametrize("token", [None, "wrong-token", "alice-token-but-longer"])
def test_agent_without_valid_credentials_is_refused_with_1008(connect: Connect, token: str | None) -> None:
    with connect.customer() as customer:
        conversation_id = start(connect, customer)
        with connect.agent(conversation_id, token=token) as agent:
            assert agent.receive()["code"] == "unauthorized"
            with pytest.raises(WebSocketDisconnect) as closed:
                agent.receive()
    assert closed.value.code == 1008


def test_no_agent_tokens_configured_closes_agent_access(
    make_client: Callable[..., TestClient], sqlite_url: str
) -> None:
    client = make_client(sqlite_url, agent_tokens="")
    connect = Connect(client)
    with connect.customer() as customer:
        conversation_id = start(connect, customer)
        with connect.agent(conversation_id, token="anything") as agent:
            error = agent.receive()
    assert error["code"] == "unauthorized" and "HUASHU_AGENT_TOKENS" in error["message"]
    assert client.post("/api/agent/tickets", headers={"Authorization": "Bearer anything"}).status_code == 401


def test_agent_on_an_unknown_conversation_is_not_found(connect: Connect) -> None:
    with connect.agent("no-such-conversation") as agent:
        assert agent.receive()["code"] == "not_found"
        with pytest.raises(WebSocketDisconnect) as closed:
            agent.receive()
    assert closed.value.code == 1008


def test_ticket_opens_the_sidebar_once(connect: Connect, client: TestClient) -> None:
    with connect.customer() as customer:
        conversation_id = start(connect, customer)
        answer = client.post("/api/agent/tickets", headers=ALICE, json={"conversation_id": conversation_id})
        assert answer.status_code == 201
        ticket = answer.json()["ticket"]
        assert answer.json()["agent"] == "alice" and answer.json()["expires_in"] > 0
        with connect.agent(conversation_id, token=None, ticket=ticket) as agent:
            assert agent.receive()["type"] == "snapshot"
        with connect.agent(conversation_id, token=None, ticket=ticket) as agent:
            error = agent.receive()
    assert error["code"] == "unauthorized" and "already used" in error["message"]


def test_ticket_for_another_conversation_is_refused(connect: Connect, client: TestClient) -> None:
    with connect.customer() as first, connect.customer() as second:
        one, other = start(connect, first), start(connect, second)
        ticket = client.post("/api/agent/tickets", headers=ALICE, json={"conversation_id": one}).json()[
            "ticket"
        ]
        with connect.agent(other, token=None, ticket=ticket) as agent:
            assert agent.receive()["code"] == "unauthorized"


@pytest.mark.parametrize("ticket", ["garbage", "e30.AAAA", "eyJhIjoiYWxpY2UifQ.AAAA"])
def test_forged_tickets_are_refused(connect: Connect, ticket: str) -> None:
    with connect.customer() as customer:
        conversation_id = start(connect, customer)
        with connect.agent(conversation_id, token=None, ticket=ticket) as agent:
            assert agent.receive()["code"] == "unauthorized"


def test_expired_ticket_is_refused(
    connect: Connect, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    ticket = client.post("/api/agent/tickets", headers=ALICE).json()["ticket"]
    later = time.time() + 3600
    monkeypatch.setattr("app.api.auth.time.time", lambda: later)
    with connect.customer() as customer:
        conversation_id = start(connect, customer)
        with connect.agent(conversation_id, token=None, ticket=ticket) as agent:
            assert "expired" in agent.receive()["message"]


# ---------------------------------------------------------------- what the sidebar sees


def test_snapshot_then_suggestions_on_connect(connect: Connect) -> None:
    with connect.customer() as customer:
        conversation_id = start(connect, customer)
        customer.exchange({"type": "message", "id": "c-1", "text": "我的快递到哪了"})
        with connect.agent(conversation_id) as agent:
            snapshot, suggestions = agent.receive(), agent.receive()
    assert snapshot["type"] == "snapshot"
    assert (snapshot["conversation_id"], snapshot["mode"], snapshot["state"]) == (
        conversation_id,
        "bot",
        "ask_order_id",
    )
    roles = [m["role"] for m in snapshot["messages"]]
    assert roles == ["system", "bot", "customer", "bot"]  # start, greeting, question, "your order number?"
    assert suggestions["type"] == "suggestions" and suggestions["intent"] == "order_status"
    assert suggestions["items"] and set(suggestions["items"][0]) == {
        "phrase_id",
        "text",
        "score",
        "missing_slots",
        "stage",
        "reason",
    }


def test_agent_gets_each_customer_message_with_suggestions(connect: Connect) -> None:
    with connect.customer() as customer:
        conversation_id = start(connect, customer, mode="human")
        with connect.agent(conversation_id) as agent:
            agent.barrier()
            ack = only(
                customer.exchange(
                    {"type": "message", "id": "c-1", "text": "我的快递到哪了,订单号202611180001"}
                ),
                "ack",
            )
            frames = agent.barrier()
    message = only(frames, "customer_message")
    assert message == {
        "type": "customer_message",
        "seq": ack["seq"],
        "text": "我的快递到哪了,订单号202611180001",
        "id": "c-1",
        "intent": "order_status",
    }
    suggestions = only(frames, "suggestions")
    assert suggestions["intent"] == "order_status" and suggestions["items"]
    assert all({"phrase_id", "text", "score", "missing_slots"} <= set(item) for item in suggestions["items"])
    assert [f["type"] for f in frames] == ["customer_message", "status", "suggestions"]


def test_agent_answers_a_human_mode_customer(connect: Connect) -> None:
    with connect.customer() as customer:
        conversation_id = start(connect, customer, mode="human")
        customer.exchange({"type": "message", "id": "c-1", "text": "你好,我想问一下退货"})
        with (
            connect.agent(conversation_id) as agent,
            connect.agent(conversation_id, token="bob-token") as colleague,
        ):
            colleague.barrier()
            phrase = "listen.invite.online"
            frames = agent.exchange(
                {"type": "message", "id": "a-1", "text": "您好,请讲。", "phrase_id": phrase}
            )
            ack = only(frames, "ack")
            assert ack["id"] == "a-1"
            to_colleague = only(colleague.barrier(), "agent_message")
        to_customer = customer.barrier()
    assert to_customer == [{"type": "agent_message", "seq": ack["seq"], "text": "您好,请讲。"}]
    assert to_colleague == {
        "type": "agent_message",
        "seq": ack["seq"],
        "text": "您好,请讲。",
        "agent": "alice",
        "phrase_id": phrase,
    }
    assert of_type(frames, "agent_message") == []  # the sender has its ack instead


def test_agent_resend_with_same_id_is_stored_once(connect: Connect, client: TestClient) -> None:
    with connect.customer() as customer:
        conversation_id = start(connect, customer, mode="human")
        with connect.agent(conversation_id) as agent:
            agent.barrier()
            first = only(agent.exchange({"type": "message", "id": "a-1", "text": "您好"}), "ack")
            assert agent.exchange({"type": "message", "id": "a-1", "text": "您好"}) == [first]
    messages = client.get(f"/api/conversations/{conversation_id}", headers=ALICE).json()["messages"]
    assert [m["text"] for m in messages if m["role"] == "agent"] == ["您好"]


def test_agent_message_takes_a_bot_conversation_over(connect: Connect) -> None:
    with connect.customer() as customer:
        conversation_id = start(connect, customer)
        with connect.agent(conversation_id) as agent:
            agent.barrier()
            agent.exchange({"type": "message", "text": "您好,我是人工客服。"})
        status, message = customer.barrier()
        assert (status["type"], status["mode"]) == ("status", "human")
        assert message["type"] == "agent_message"
        # The bot no longer answers: only the ack comes back.
        assert [f["type"] for f in customer.exchange({"type": "message", "id": "c-1", "text": "你好"})] == [
            "ack"
        ]


def test_handoff_waits_for_an_agent_who_picks_it_up(connect: Connect) -> None:
    with connect.customer() as customer:
        conversation_id = start(connect, customer)
        customer.exchange({"type": "message", "id": "c-1", "text": "转人工"})
        with connect.agent(conversation_id) as agent:
            snapshot = agent.receive()
            assert (snapshot["state"], snapshot["awaiting_agent"]) == ("handoff", True)
            agent.barrier()
            agent.exchange({"type": "message", "text": "您好,我是人工客服小王。"})
        frames = customer.barrier()
    assert only(frames, "status") == {
        "type": "status",
        "state": frames[0]["state"],
        "mode": "human",
        "awaiting_agent": False,
        "ended": False,
    }
    assert only(frames, "agent_message")["text"] == "您好,我是人工客服小王。"


def test_set_slot_updates_the_status_and_the_suggestions(connect: Connect) -> None:
    with connect.customer() as customer:
        conversation_id = start(connect, customer, mode="human")
        with connect.agent(conversation_id) as agent:
            agent.barrier()
            frames = agent.exchange({"type": "set_slot", "name": "order_id", "value": "202611180001"})
        assert customer.barrier() == []  # slots are not the customer's business
    status = only(frames, "status")
    assert status["slots"]["order_id"] == "202611180001" and status["agent"] == "alice"
    assert only(frames, "suggestions")


def test_goto_in_a_bot_conversation_makes_the_bot_say_that_state(connect: Connect) -> None:
    with connect.customer() as customer:
        conversation_id = start(connect, customer)
        with connect.agent(conversation_id) as agent:
            agent.barrier()
            frames = agent.exchange({"type": "goto", "state": "promise"})
            assert only(frames, "status")["state"] == "close_check"
        replies = of_type(customer.barrier(), "reply")
    assert [r["phrase_id"].split(".")[0] for r in replies] == ["promise", "close-check"]


def test_goto_an_unknown_state_is_an_error_and_the_sidebar_stays_open(connect: Connect) -> None:
    with connect.customer() as customer:
        conversation_id = start(connect, customer)
        with connect.agent(conversation_id) as agent:
            agent.barrier()
            error = only(agent.exchange({"type": "goto", "state": "nowhere"}), "error")
            assert error["code"] == "unknown_state" and "nowhere" in error["message"]
            assert only(agent.exchange({"type": "goto", "state": "listen"}), "status")


def test_takeover_and_release_switch_who_answers(connect: Connect) -> None:
    with connect.customer() as customer:
        conversation_id = start(connect, customer)
        with connect.agent(conversation_id) as agent:
            agent.barrier()
            assert only(agent.exchange({"type": "takeover"}), "status")["mode"] == "human"
            assert only(customer.barrier(), "status")["mode"] == "human"
            assert [
                f["type"] for f in customer.exchange({"type": "message", "id": "c-1", "text": "你好"})
            ] == ["ack"]
            agent.barrier()
            # A second takeover changes nothing and stores nothing, but still answers with the status.
            assert only(agent.exchange({"type": "takeover"}), "status")["mode"] == "human"
            assert only(agent.exchange({"type": "release"}), "status")["mode"] == "bot"
        assert only(customer.barrier(), "status")["mode"] == "bot"
        frames = customer.exchange({"type": "message", "id": "c-2", "text": "请问七天无理由退货怎么办理?"})
    assert of_type(frames, "reply"), "the bot answers again after release"


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ('{"type": "start"}', "unknown_type"),
        ('{"type": "set_slot", "name": "1bad", "value": "x"}', "invalid_field"),
        ('{"type": "message"}', "invalid_field"),
        ("{", "bad_json"),
    ],
)
def test_malformed_agent_frames_get_an_error(connect: Connect, frame: str, code: str) -> None:
    with connect.customer() as customer:
        conversation_id = start(connect, customer)
        with connect.agent(conversation_id) as agent:
            agent.barrier()
            assert only(agent.exchange(frame), "error")["code"] == code
            assert agent.exchange({"type": "ping"}) == []
