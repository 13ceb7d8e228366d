"""REST: `POST /api/qa/replay` (one transcript or many) and `GET /api/conversations/{id}/qa` (a stored one)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.api.qa import MAX_BATCH
from app.config import Settings
from app.main import create_app
from tests.api.wire import AGENT_TOKENS, ALICE, Connect, only

TRANSCRIPT: dict[str, Any] = {
    "id": "web-1",
    "channel": "online",
    "agent": "alice",
    "turns": [{"role": "customer", "text": "我的快递到哪了"}, {"role": "agent", "text": "亲,这个不行。"}],
}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'huashu.db'}", agent_tokens=AGENT_TOKENS, redis_url=None)
    app = create_app(settings)
    with TestClient(app) as started:
        yield started


def test_replay_one_transcript_returns_its_assessment(client: TestClient) -> None:
    answer = client.post("/api/qa/replay", json=TRANSCRIPT, headers=ALICE)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["id"] == "web-1" and body["score"] < 100 and len(body["turns"]) == 2
    assert {"greeting.missing", "forbidden.phrase"} <= {f["rule"] for f in body["findings"]}


def test_replay_a_list_keeps_order_and_reports_invalid_items_in_place(client: TestClient) -> None:
    second = {**TRANSCRIPT, "id": "web-2"}
    answer = client.post("/api/qa/replay?turns=false", json=[TRANSCRIPT, {"id": "bad"}, second], headers=ALICE)
    assert answer.status_code == 200, answer.text
    first, bad, last = answer.json()
    assert (first["id"], last["id"]) == ("web-1", "web-2") and "turns" not in first
    assert bad == {"index": 1, "error": 'field "turns" must be a list'}


def test_replay_refuses_an_invalid_single_transcript_and_oversized_batches(client: TestClient) -> None:
    assert client.post("/api/qa/replay", json={"id": "x", "turns": "no"}, headers=ALICE).status_code == 422
    assert client.post("/api/qa/replay", json=[TRANSCRIPT] * (MAX_BATCH + 1), headers=ALICE).status_code == 422


def test_qa_needs_an_agent_token(client: TestClient) -> None:
    assert client.post("/api/qa/replay", json=TRANSCRIPT).status_code == 401
    assert client.get("/api/conversations/whatever/qa").status_code == 401


def test_a_stored_conversation_is_replayed_and_scored(client: TestClient) -> None:
    with Connect(client).customer() as customer:
        started = only(customer.exchange({"type": "start"}), "started")
        customer.exchange({"type": "message", "id": "m1", "text": "请问七天无理由退货怎么办理?"})
        customer.exchange({"type": "message", "id": "m2", "text": "没有了,谢谢"})
    conversation_id = started["conversation_id"]
    answer = client.get(f"/api/conversations/{conversation_id}/qa", headers=ALICE)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["id"] == conversation_id and body["source"] == f"store:{conversation_id}"
    assert [t["role"] for t in body["turns"]][:2] == ["bot", "customer"]
    assert body["score"] is not None and body["score"] >= 80  # the bot follows the script


def test_an_unknown_conversation_is_404(client: TestClient) -> None:
    assert client.get("/api/conversations/nope/qa", headers=ALICE).status_code == 404


def test_a_jddc_export_is_imported_as_transcripts_with_its_bad_rows_named(client: TestClient) -> None:
    rows = [
        "s-1\tUSERID_1\t0\t0\t0\tnan\t我的快递到哪了",
        "s-1\tUSERID_1\t1\t0\t0\tnan\t您好,请提供订单号!@@@!我帮您查",
        "s-2\tUSERID_2\t0\t0\t0",  # a row cut short
    ]
    answer = client.post("/api/qa/import/jddc", content="\n".join(rows).encode("utf-8"), headers=ALICE)

    assert answer.status_code == 200
    (transcript,) = answer.json()["transcripts"]
    assert transcript["id"] == "s-1" and [t["role"] for t in transcript["turns"]] == ["customer", "agent", "agent"]
    assert answer.json()["errors"] == [{"line": 3, "error": "expected 7 tab-separated columns, got 5"}]


def test_a_jddc_import_refuses_what_is_not_utf8_and_needs_an_agent(client: TestClient) -> None:
    refused = client.post("/api/qa/import/jddc", content="会话".encode("gbk"), headers=ALICE)
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_field"
    assert client.post("/api/qa/import/jddc", content=b"").status_code == 401
