"""Hostile input on both WebSocket endpoints and the REST API (issue 16 item 5): every malformed frame
gets a structured error frame naming what is wrong, never `internal_error`, and the socket stays usable."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.wire import ALICE, Connect, Socket, only

pytestmark = pytest.mark.timeout(120)
DEEP = "[" * 2000 + "]" * 2000
HUGE_INT = '{"type": "message", "id": "m", "text": "x", "n": ' + "9" * 5000 + "}"
SURROGATE_NAME = '{"type": "start", "customer": {"name": "\\ud800"}}'
SURROGATE_ID = '{"type": "message", "id": "\\udfff", "text": "你好"}'

MALFORMED = [
    ('{"type": []}', "unknown_type"),
    ('{"type": {"a": 1}}', "unknown_type"),
    (DEEP, "bad_json"),
    ('{"type": "message", "x": ' + "[" * 3000 + "]" * 3000 + "}", "bad_json"),
    (HUGE_INT, "bad_json"),
    (SURROGATE_NAME, "invalid_field"),
    (SURROGATE_ID, "invalid_field"),
    ('{"type": "message", "id": "m", "text": "\\ud83d"}', "invalid_field"),
    ('{"\\ud800": 1, "type": "ping"}', "invalid_field"),
]


def _errors(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in frames if f["type"] == "error"]


@pytest.fixture
def app_client(make_client: Callable[..., TestClient], sqlite_url: str) -> TestClient:
    return make_client(sqlite_url)


@pytest.mark.parametrize(("raw", "code"), MALFORMED)
def test_customer_socket_answers_malformed_frames_with_their_code(app_client: TestClient, raw: str, code: str) -> None:
    with Connect(app_client).customer() as customer:
        errors = _errors(customer.exchange(raw))
        assert [e["code"] for e in errors] == [code], errors
        assert "internal" not in errors[0]["message"]
        only(customer.exchange({"type": "start"}), "started")  # the socket still works


@pytest.mark.parametrize(("raw", "code"), MALFORMED)
def test_agent_socket_answers_malformed_frames_with_their_code(app_client: TestClient, raw: str, code: str) -> None:
    connect = Connect(app_client)
    with connect.started() as (_, frames):
        conversation_id = only(frames, "started")["conversation_id"]
        with connect.agent(conversation_id) as agent:
            agent.barrier()
            errors = _errors(agent.exchange(raw))
            assert [e["code"] for e in errors] == [code], errors
            assert agent.exchange({"type": "ping"}) == []  # still answering


def test_a_lone_surrogate_in_a_message_id_gets_an_error_frame_not_a_closed_socket(app_client: TestClient) -> None:
    with Connect(app_client).started() as (customer, _):
        errors = _errors(customer.exchange(SURROGATE_ID))
        assert errors and errors[0]["code"] == "invalid_field" and errors[0]["message"].startswith("id:")
        acked = customer.exchange({"type": "message", "id": "ok-1", "text": "你好"})
        assert any(f["type"] == "ack" for f in acked)


@pytest.mark.parametrize("body", [
    '{"id": "t", "channel": "online", "turns": [{"role": "customer", "text": "\\ud800"}]}',
    '{"id": "\\ud800", "channel": "online", "turns": [{"role": "customer", "text": "你好"}]}',
])
def test_qa_replay_with_a_lone_surrogate_is_a_structured_422(app_client: TestClient, body: str) -> None:
    answer = app_client.post("/api/qa/replay", content=body,
                             headers={**ALICE, "Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert answer.json()["type"] == "error" and answer.json()["code"] == "invalid_field"


# ---------------------------------------------------------------- fuzzing, bounded to stay fast in CI

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
    | st.sampled_from(["\ud800", "a\udfffb"]),  # lone surrogates: valid JSON, not valid Unicode
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
CUSTOMER_TYPES = ["start", "resume", "message", "ping", "history", "rate", "nonsense"]
AGENT_TYPES = ["message", "takeover", "release", "goto", "set_slot", "ping", "history", "nonsense"]


def frames(types: list[str]) -> st.SearchStrategy[str]:
    fields = st.dictionaries(st.sampled_from(["id", "text", "customer", "mode", "flow", "channel", "state", "name",
                                              "value", "last_seq", "token", "conversation_id", "score"]),
                             JSON_VALUES, max_size=4)
    kinds = st.sampled_from(types) | JSON_VALUES  # a `type` that is a list or an object, too
    typed = st.builds(lambda kind, rest: json.dumps({"type": kind, **rest}), kinds, fields)
    return typed | JSON_VALUES.map(json.dumps) | st.text(max_size=40)


def _fuzz(socket: Socket, raw: str) -> None:
    for frame in socket.exchange(raw):
        assert not (frame["type"] == "error" and frame["code"] == "internal_error"), (raw, frame)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raws=st.lists(frames(CUSTOMER_TYPES), min_size=1, max_size=5))
def test_fuzzed_customer_frames_never_cause_an_internal_error(app_client: TestClient, raws: list[str]) -> None:
    with Connect(app_client).customer() as customer:
        for raw in raws:
            _fuzz(customer, raw)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raws=st.lists(frames(AGENT_TYPES), min_size=1, max_size=5))
def test_fuzzed_agent_frames_never_cause_an_internal_error(app_client: TestClient, raws: list[str]) -> None:
    connect = Connect(app_client)
    with connect.started() as (_, started), connect.agent(only(started, "started")["conversation_id"]) as agent:
        agent.barrier()
        for raw in raws:
            _fuzz(agent, raw)
