"""The customer endpoint `/ws/chat`, frame by frame (TestClient; SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.api.wire import ALICE, Connect, of_type, only

pytestmark = pytest.mark.timeout(60)

ORDER_QUESTION = "我的快递到哪了,订单号202611180001"


def stage(reply: dict[str, object]) -> str:
    """Phrase ids start with their stage: `greeting.standard` → greeting."""
    return str(reply["phrase_id"]).split(".")[0]


# ---------------------------------------------------------------- start


def test_start_answers_started_then_the_greeting(connect: Connect) -> None:
    with connect.started(channel="online") as (_, frames):
        started, greeting = frames
    assert started["type"] == "started"
    assert set(started) == {"type", "conversation_id", "token", "flow", "flow_version", "state", "mode", "ended"}
    assert (started["flow"], started["mode"], started["state"]) == ("default", "bot", "listen")
    assert greeting["type"] == "reply" and stage(greeting) == "greeting"
    assert greeting["seq"] >= 1 and greeting["intent"] is None and greeting["state"] == "listen"


def test_start_in_human_mode_has_no_bot_greeting(connect: Connect) -> None:
    with connect.started(mode="human") as (_, frames):
        started = only(frames, "started")
    assert started["mode"] == "human"
    assert of_type(frames, "reply") == []


def test_customer_name_fills_the_customer_name_slot(connect: Connect, client: TestClient) -> None:
    with connect.started(customer={"name": "王女士"}) as (_, frames):
        conversation_id = only(frames, "started")["conversation_id"]
    stored = client.get(f"/api/conversations/{conversation_id}", headers=ALICE).json()
    assert stored["customer"] == {"name": "王女士"}
    assert stored["slots"]["customer_name"] == "王女士"


def test_start_with_unknown_flow_is_an_invalid_field_and_the_socket_stays_usable(connect: Connect) -> None:
    with connect.customer() as customer:
        error = only(customer.exchange({"type": "start", "flow": "nope"}), "error")
        assert error["code"] == "invalid_field" and "nope" in error["message"]
        assert only(customer.exchange({"type": "start"}), "started")


def test_start_on_a_channel_the_flow_does_not_serve_is_an_invalid_field(connect: Connect) -> None:
    with connect.customer() as customer:
        error = only(customer.exchange({"type": "start", "channel": "email"}), "error")
    assert error["code"] == "invalid_field"


def test_second_start_on_one_connection_is_already_started(connect: Connect) -> None:
    with connect.started() as (customer, _):
        assert only(customer.exchange({"type": "start"}), "error")["code"] == "already_started"


# ---------------------------------------------------------------- messages


def test_message_is_acked_then_answered_from_the_demo_orders(connect: Connect) -> None:
    with connect.started() as (customer, _):
        frames = customer.exchange({"type": "message", "id": "c-1", "text": ORDER_QUESTION})
    ack, *replies = frames
    assert ack == {"type": "ack", "id": "c-1", "seq": ack["seq"], "replies": 3}
    assert [stage(r) for r in replies] == ["waiting", "answer", "close-check"]
    answer = replies[1]
    assert "顺丰速运" in answer["text"] and "SF1402658823115" in answer["text"]
    assert answer["intent"] == "order_status"
    assert all(r["seq"] > ack["seq"] for r in replies)
    assert [r["seq"] for r in replies] == sorted(r["seq"] for r in replies)


def test_resend_with_same_id_gets_the_same_ack_and_is_stored_once(
    connect: Connect, client: TestClient
) -> None:
    with connect.started() as (customer, frames):
        conversation_id = only(frames, "started")["conversation_id"]
        first = customer.exchange({"type": "message", "id": "c-1", "text": ORDER_QUESTION})
        again = customer.exchange({"type": "message", "id": "c-1", "text": ORDER_QUESTION})
    assert again == [first[0]]  # the same ack, and no second answer
    stored = client.get(f"/api/conversations/{conversation_id}", headers=ALICE).json()["messages"]
    assert [m["client_message_id"] for m in stored].count("c-1") == 1


def test_message_before_start_is_not_started(connect: Connect) -> None:
    with connect.customer() as customer:
        error = only(customer.exchange({"type": "message", "id": "c-1", "text": "你好"}), "error")
    assert error == {"type": "error", "code": "not_started", "message": error["message"], "ref": "c-1"}


def test_text_over_the_limit_is_an_invalid_field_with_ref(
    make_client: Callable[..., TestClient], sqlite_url: str
) -> None:
    connect = Connect(make_client(sqlite_url, max_text_chars=10))
    with connect.started() as (customer, _):
        error = only(customer.exchange({"type": "message", "id": "c-1", "text": "你" * 11}), "error")
        assert (error["code"], error["ref"]) == ("invalid_field", "c-1")
        assert only(customer.exchange({"type": "message", "id": "c-2", "text": "你好"}), "ack")


def test_handoff_tells_the_customer_a_human_will_answer(connect: Connect) -> None:
    with connect.started() as (customer, _):
        frames = customer.exchange({"type": "message", "id": "c-1", "text": "转人工"})
        status = only(frames, "status")
        assert stage(only(frames, "reply")) == "hand-off"
        assert status == {
            "type": "status",
            "state": "handoff",
            "mode": "bot",
            "awaiting_agent": True,
            "ended": False,
        }
        # While it waits, messages are stored and acked; the bot stays quiet.
        assert [f["type"] for f in customer.exchange({"type": "message", "id": "c-2", "text": "在吗"})] == [
            "ack"
        ]


def test_failing_action_takes_the_promise_a_reply_time_path(
    make_client: Callable[..., TestClient], sqlite_url: str
) -> None:
    # Nothing listens on port 9: the webhook fails at once and the script promises a reply time.
    client = make_client(sqlite_url, actions="lookup_order=http://127.0.0.1:9/lookup", action_retries=0)
    with Connect(client).started() as (customer, _):
        replies = of_type(
            customer.exchange({"type": "message", "id": "c-1", "text": ORDER_QUESTION}), "reply"
        )
    assert [stage(r) for r in replies] == ["waiting", "promise", "close-check"]


def test_conversation_end_is_told_with_a_status(connect: Connect) -> None:
    with connect.started() as (customer, _):
        customer.exchange({"type": "message", "id": "c-1", "text": "请问七天无理由退货怎么办理?"})
        frames = customer.exchange({"type": "message", "id": "c-2", "text": "没有了,谢谢"})
    farewell, survey = of_type(frames, "reply")
    assert stage(farewell) == "farewell" and survey["phrase_id"] == "survey.ask"  # then the rating is asked for
    assert only(frames, "status")["ended"] is True


# ---------------------------------------------------------------- resume


def test_resume_returns_started_and_the_history_after_last_seq(connect: Connect) -> None:
    with connect.started() as (customer, frames):
        started = only(frames, "started")
        greeting_seq = only(frames, "reply")["seq"]
        answer = customer.exchange({"type": "message", "id": "c-1", "text": ORDER_QUESTION})
    resume = {
        "type": "resume",
        "conversation_id": started["conversation_id"],
        "token": started["token"],
        "last_seq": greeting_seq,
    }
    with connect.customer() as again:
        frames = again.exchange(resume)
    assert frames[0] == {**started, "state": "close_check"}
    history = only(frames, "history")["messages"]
    assert [m["seq"] for m in history] == [
        f["seq"] for f in answer
    ]  # the customer row and the bot's; no system rows
    assert history[0] == {
        **history[0],
        "role": "customer",
        "id": "c-1",
        "text": ORDER_QUESTION,
        "intent": "order_status",
    }
    assert [m["role"] for m in history[1:]] == ["bot", "bot", "bot"]


def test_resume_claiming_a_future_seq_still_gets_the_bots_replies(connect: Connect) -> None:
    with connect.started() as (_, frames):
        started = only(frames, "started")
    resume = {"type": "resume", "conversation_id": started["conversation_id"], "token": started["token"], "last_seq": 999}
    with connect.customer() as again:
        again.exchange(resume)
        answer = again.exchange({"type": "message", "id": "c-9", "text": ORDER_QUESTION})
    assert [f["type"] for f in answer][:2] == ["ack", "reply"]


def test_resumed_socket_keeps_deduplicating_by_client_id(connect: Connect) -> None:
    with connect.started() as (customer, frames):
        started = only(frames, "started")
        ack = customer.exchange({"type": "message", "id": "c-1", "text": ORDER_QUESTION})[0]
    with connect.customer() as again:
        again.exchange(
            {"type": "resume", "conversation_id": started["conversation_id"], "token": started["token"]}
        )
        assert again.exchange({"type": "message", "id": "c-1", "text": ORDER_QUESTION}) == [ack]


def test_resume_with_a_wrong_token_is_unauthorized_and_the_socket_stays_open(connect: Connect) -> None:
    with connect.started() as (_, frames):
        conversation_id = only(frames, "started")["conversation_id"]
    with connect.customer() as stranger:
        error = only(
            stranger.exchange({"type": "resume", "conversation_id": conversation_id, "token": "guess"}),
            "error",
        )
        assert error["code"] == "unauthorized"
        assert only(stranger.exchange({"type": "start"}), "started")["conversation_id"] != conversation_id


def test_resume_of_an_unknown_conversation_is_unauthorized_like_a_wrong_token(connect: Connect) -> None:
    # A customer cannot probe which conversation ids exist (issue 16 item 7).
    with connect.customer() as customer:
        error = only(customer.exchange({"type": "resume", "conversation_id": "nope", "token": "t"}), "error")
    assert error["code"] == "unauthorized"


# ---------------------------------------------------------------- malformed frames


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "bad_json"),
        ("[1, 2]", "bad_json"),
        ('{"text": "no type"}', "unknown_type"),
        ('{"type": "shout"}', "unknown_type"),
        ('{"type": "set_slot", "name": "x", "value": "y"}', "unknown_type"),  # an agent frame
        ('{"type": "message", "id": "c-1"}', "invalid_field"),
        ('{"type": "message", "id": "has space", "text": "hi"}', "invalid_field"),
        ('{"type": "message", "id": "c-1", "text": ""}', "invalid_field"),
        ('{"type": "start", "mode": "robot"}', "invalid_field"),
        ('{"type": "start", "colour": "red"}', "invalid_field"),
        ('{"type": "resume", "conversation_id": "x", "token": "t", "last_seq": -1}', "invalid_field"),
    ],
)
def test_malformed_frames_get_an_error_and_the_socket_stays_open(
    connect: Connect, frame: str, code: str
) -> None:
    with connect.customer() as customer:
        error = only(customer.exchange(frame), "error")
        assert error["code"] == code, error
        assert only(customer.exchange({"type": "start"}), "started")


def test_invalid_field_names_the_field_and_refers_to_the_message(connect: Connect) -> None:
    with connect.started() as (customer, _):
        error = only(customer.exchange('{"type": "message", "id": "c-9"}'), "error")
    assert error["ref"] == "c-9" and error["message"].startswith("text:")


def test_binary_frames_are_bad_json(connect: Connect) -> None:
    with connect.customer() as customer:
        customer.session.send_bytes(b'{"type": "ping"}')
        assert only(customer.barrier(), "error")["code"] == "bad_json"


def test_frame_over_the_size_limit_closes_with_1009(
    make_client: Callable[..., TestClient], sqlite_url: str
) -> None:
    client = make_client(sqlite_url, max_frame_bytes=1024)
    with Connect(client).started() as (customer, _):
        customer.send({"type": "message", "id": "big", "text": "好" * 400})  # 1,200 bytes of UTF-8
        assert customer.receive()["code"] == "too_large"
        with pytest.raises(WebSocketDisconnect) as closed:
            customer.receive()
    assert closed.value.code == 1009


def test_too_many_frames_are_rate_limited_and_the_socket_stays_open(
    make_client: Callable[..., TestClient], sqlite_url: str
) -> None:
    connect = Connect(make_client(sqlite_url, rate_limit_per_minute=3))
    with connect.customer() as customer:
        started = only(customer.exchange({"type": "start"}), "started")  # frames 1 (start) and 2 (ping)
        customer.send({"type": "message", "id": "c-1", "text": "你好"})  # frame 3
        customer.send({"type": "message", "id": "c-2", "text": "在吗"})  # frame 4: over the limit
        ack, reply, error = customer.receive(), customer.receive(), customer.receive()
        assert (ack["type"], ack["id"], reply["type"]) == ("ack", "c-1", "reply")
        assert (error["type"], error["code"], error["ref"]) == ("error", "rate_limited", "c-2")
        # Still open: an agent's message reaches this customer.
        with connect.agent(started["conversation_id"]) as agent:
            agent.exchange({"type": "message", "text": "您好,我来为您处理。"})
        frames = [customer.receive() for _ in range(2)]
    assert only(frames, "agent_message")["text"] == "您好,我来为您处理。"


def test_ping_is_answered_with_pong(connect: Connect) -> None:
    with connect.customer() as customer:
        customer.send({"type": "ping"})
        assert customer.receive() == {"type": "pong"}


def test_a_conversation_keeps_its_rate_limit_across_reconnects(
    make_client: Callable[..., TestClient], sqlite_url: str
) -> None:
    # Reconnecting used to give a fresh allowance (issue 16 item 3): the limit is the conversation's.
    connect = Connect(make_client(sqlite_url, conversation_rate_per_minute=3))
    with connect.customer() as customer:
        started = only(customer.exchange({"type": "start"}), "started")
        for number in range(2):
            only(customer.exchange({"type": "message", "id": f"a-{number}", "text": "你好"}), "ack")
    resume = {"type": "resume", "conversation_id": started["conversation_id"], "token": started["token"]}
    with connect.customer() as again:
        again.exchange(resume)
        only(again.exchange({"type": "message", "id": "b-0", "text": "在吗"}), "ack")  # the third of three
        error = only(again.exchange({"type": "message", "id": "b-1", "text": "在吗"}), "error")
    assert (error["code"], error["ref"]) == ("rate_limited", "b-1")


def test_new_conversations_are_limited_per_client_address(
    make_client: Callable[..., TestClient], sqlite_url: str
) -> None:
    connect = Connect(make_client(sqlite_url, new_conversations_per_minute=2))
    for _ in range(2):
        with connect.customer() as customer:
            only(customer.exchange({"type": "start"}), "started")
    with connect.customer() as customer:
        error = only(customer.exchange({"type": "start"}), "error")
        assert error["code"] == "rate_limited" and "new conversations" in error["message"]
        assert customer.exchange({"type": "ping"}) == []  # the socket stays open
