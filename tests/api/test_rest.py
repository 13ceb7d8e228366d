"""REST endpoints: health, content, stateless engine calls, stored conversations, export, tickets."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import analyze_lines
from app.nlu.analyzer import get_analyzer
from app.transcripts import Transcript
from tests.api.wire import ALICE, Connect, only

pytestmark = pytest.mark.timeout(60)


def conversation(connect: Connect, *texts: str, **start: object) -> dict[str, str]:
    """A conversation in which the customer said `texts`; its `started` frame."""
    with connect.customer() as customer:
        started = only(customer.exchange({"type": "start", **start}), "started")
        for number, text in enumerate(texts):
            customer.exchange({"type": "message", "id": f"c-{number}", "text": text})
    return started


def test_healthz(client: TestClient) -> None:
    answer = client.get("/healthz").json()
    assert answer["status"] == "ok" and "default" in answer["flows"]


def test_openapi_docs_are_served(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/api/flows",
        "/api/suggest",
        "/api/conversations/{conversation_id}/export",
        "/api/agent/tickets",
    } <= set(paths)
    assert client.get("/docs").status_code == 200


# ---------------------------------------------------------------- content


def test_flows_are_listed_and_shown_as_json_and_mermaid(client: TestClient) -> None:
    flows = client.get("/api/flows").json()
    by_name = {f["name"]: f for f in flows}
    assert by_name["default"]["initial"] == "greeting" and set(by_name["default"]) >= {"version", "channels"}
    shown = client.get("/api/flows/default").json()
    assert shown["flow"] == "default" and {s["name"] for s in shown["states"]} >= {
        "greeting",
        "listen",
        "handoff",
    }
    mermaid = client.get("/api/flows/default", params={"format": "mermaid"})
    assert mermaid.headers["content-type"].startswith("text/plain")
    assert mermaid.text.startswith("stateDiagram-v2") and "[*] --> greeting" in mermaid.text


def test_unknown_flow_is_404_with_an_error_body(client: TestClient) -> None:
    answer = client.get("/api/flows/nope")
    assert answer.status_code == 404
    assert answer.json() == {"type": "error", "code": "not_found", "message": answer.json()["message"]}


def test_phrases_filter_by_stage_scenario_and_text(client: TestClient) -> None:
    greetings = client.get("/api/phrases", params={"stage": "greeting"}).json()
    assert greetings and all(p["stage"] == "greeting" for p in greetings)
    refunds = client.get("/api/phrases", params={"stage": "answer", "scenario": "return_refund"}).json()
    assert refunds and all(not p["scenarios"] or "return_refund" in p["scenarios"] for p in refunds)
    found = client.get("/api/phrases", params={"q": "无理由"}).json()
    assert found and all("无理由" in json.dumps(p, ensure_ascii=False) for p in found)


# ---------------------------------------------------------------- stateless engine calls


def test_analyze_gives_what_huashu_analyze_prints(client: TestClient) -> None:
    lines = [
        {"id": 1, "text": "我的快递到哪了,订单号202611180001", "today": "2026-11-22"},
        {"text": "转人工", "today": "2026-11-22"},
    ]
    printed = io.StringIO()
    analyze_lines(io.StringIO("\n".join(json.dumps(line) for line in lines)), printed, date(2026, 11, 22), get_analyzer())
    expected = [json.loads(line) for line in printed.getvalue().splitlines()]
    assert client.post("/api/analyze", json=lines).json() == expected
    assert client.post("/api/analyze", json=lines[0]).json() == expected[0]


def test_analyze_refuses_oversized_batches_and_survives_odd_dates(client: TestClient) -> None:
    too_many = client.post("/api/analyze", json=[{"text": "好"}] * 201)
    assert too_many.status_code == 422 and too_many.json()["code"] == "invalid_field"
    edge = client.post("/api/analyze", json={"text": "明天能到吗", "today": "9999-12-31"})
    assert edge.status_code == 200 and "date" not in edge.json()["slots"]


def test_analyze_without_text_is_invalid_field(client: TestClient) -> None:
    answer = client.post("/api/analyze", json={"txt": "你好"})
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_field"


def test_suggest_is_stateless_state_text_slots_to_suggestions(client: TestClient) -> None:
    body = {"state": "listen", "text": "我的快递到哪了", "slots": {}}
    answer = client.post("/api/suggest", json=body).json()
    assert answer["type"] == "suggestions" and answer["intent"] == "order_status"
    assert answer["state"] == "ask_order_id" and answer["items"][0]["phrase_id"] == "clarify.ask_order_id"
    assert client.post("/api/suggest", json=body).json() == answer  # nothing was remembered


def test_suggest_fills_slots_into_the_phrasings(client: TestClient) -> None:
    answer = client.post(
        "/api/suggest", json={"state": "confirm", "slots": {"issue": "屏幕有划痕", "topic": "return_refund"}}
    ).json()
    assert answer["intent"] is None and answer["state"] == "confirm"
    assert any("屏幕有划痕" in item["text"] for item in answer["items"])


def test_suggest_for_an_unknown_state_is_422(client: TestClient) -> None:
    answer = client.post("/api/suggest", json={"state": "nowhere"})
    assert (answer.status_code, answer.json()["code"]) == (422, "unknown_state")


# ---------------------------------------------------------------- stored conversations


def test_conversations_need_an_agent(client: TestClient) -> None:
    assert client.get("/api/conversations").status_code == 401
    answer = client.get("/api/conversations", headers={"Authorization": "Bearer wrong"})
    assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"


def test_conversations_are_listed_newest_first_filtered_and_paginated(
    connect: Connect, client: TestClient
) -> None:
    first = conversation(connect, "转人工")
    second = conversation(connect)
    third = conversation(connect)
    listed = client.get("/api/conversations", headers=ALICE, params={"limit": 2}).json()
    mine = [c["id"] for c in listed["items"]]
    assert listed["limit"] == 2 and listed["total"] >= 3 and len(mine) == 2
    everything = client.get("/api/conversations", headers=ALICE, params={"limit": 200}).json()["items"]
    order = [c["id"] for c in everything]
    assert (
        order.index(third["conversation_id"])
        < order.index(second["conversation_id"])
        < order.index(first["conversation_id"])
    )
    waiting = client.get(
        "/api/conversations", headers=ALICE, params={"state": "handoff", "limit": 200}
    ).json()["items"]
    assert first["conversation_id"] in [c["id"] for c in waiting] and all(
        c["state"] == "handoff" for c in waiting
    )
    today = datetime.now(UTC).date().isoformat()
    dated = client.get(
        "/api/conversations", headers=ALICE, params={"date": today, "flow": "default", "limit": 200}
    ).json()
    assert {third["conversation_id"], second["conversation_id"]} <= {c["id"] for c in dated["items"]}
    none = client.get("/api/conversations", headers=ALICE, params={"date": "2001-01-01"}).json()
    assert none == {"items": [], "total": 0, "limit": 50, "offset": 0}
    assert "token_hash" not in everything[0]


def test_a_conversation_with_all_its_messages(connect: Connect, client: TestClient) -> None:
    started = conversation(connect, "我的快递到哪了,订单号202611180001")
    stored = client.get(f"/api/conversations/{started['conversation_id']}", headers=ALICE).json()
    assert stored["state"] == "close_check" and stored["slots"]["tracking_no"] == "SF1402658823115"
    roles = [m["role"] for m in stored["messages"]]
    assert roles == ["system", "bot", "customer", "bot", "system", "bot", "bot"]
    assert [m["seq"] for m in stored["messages"]] == list(range(1, len(roles) + 1))
    assert (
        stored["messages"][2]["client_message_id"] == "c-0"
        and stored["messages"][2]["intent"] == "order_status"
    )
    assert stored["messages"][4]["text"] == "action lookup_order completed"


def test_customer_token_opens_its_own_conversation_only(connect: Connect, client: TestClient) -> None:
    mine, theirs = conversation(connect, "你好"), conversation(connect)
    own = {"Authorization": f"Bearer {mine['token']}"}
    assert client.get(f"/api/conversations/{mine['conversation_id']}", headers=own).status_code == 200
    assert client.get(f"/api/conversations/{mine['conversation_id']}/export", headers=own).status_code == 200
    assert client.get(f"/api/conversations/{theirs['conversation_id']}", headers=own).status_code == 401
    assert client.get("/api/conversations", headers=own).status_code == 401
    assert client.get(f"/api/conversations/{mine['conversation_id']}").status_code == 401


def test_unknown_conversation_is_404(client: TestClient) -> None:
    assert client.get("/api/conversations/nope", headers=ALICE).status_code == 404


def test_export_is_the_transcript_interchange_format(connect: Connect, client: TestClient) -> None:
    started = conversation(connect, "请问七天无理由退货怎么办理?", "没有了,谢谢")
    exported = client.get(f"/api/conversations/{started['conversation_id']}/export", headers=ALICE).json()
    transcript = Transcript.from_dict(exported)  # validates the format
    assert transcript.to_dict() == exported
    assert (exported["id"], exported["channel"], exported["flow"]) == (
        started["conversation_id"],
        "online",
        "default",
    )
    assert [t["role"] for t in exported["turns"]] == ["bot", "customer", "bot", "bot", "customer", "bot", "bot"]
    assert all("ts" in t for t in exported["turns"])


def test_huashu_export_writes_one_transcript_per_line(
    make_client: Callable[..., TestClient], sqlite_url: str, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pathlib import Path

    from app.cli import app as cli

    client = make_client(sqlite_url)
    ids = [conversation(Connect(client), "你好")["conversation_id"] for _ in range(3)]
    ids.append(conversation(Connect(client), "转人工")["conversation_id"])
    out = Path(str(tmp_path)) / "export.jsonl"
    monkeypatch.setenv("HUASHU_DATABASE_URL", sqlite_url)
    result = CliRunner().invoke(
        cli, ["export", "--out", str(out), "--since", datetime.now(UTC).date().isoformat()]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(line["id"] for line in lines) == sorted(ids)
    assert all(Transcript.from_dict(line).to_dict() == line for line in lines)
    handoff = CliRunner().invoke(cli, ["export", "--state", "handoff"])
    assert [json.loads(line)["id"] for line in handoff.stdout.splitlines()] == [ids[-1]]
    assert CliRunner().invoke(cli, ["export", "--since", "yesterday"]).exit_code == 2


def test_ticket_needs_an_agent(client: TestClient) -> None:
    assert client.post("/api/agent/tickets").status_code == 401
    answer = client.post("/api/agent/tickets", headers=ALICE)
    assert answer.status_code == 201 and answer.json()["ticket"].count(".") == 1


def test_demo_pages_are_served(client: TestClient) -> None:
    widget, sidebar = client.get("/"), client.get("/agent")
    assert widget.status_code == sidebar.status_code == 200
    assert widget.headers["content-type"].startswith("text/html")
    assert (
        "/ws/chat" in widget.text and "/ws/assist/" in sidebar.text and "/api/agent/tickets" in sidebar.text
    )


# ---------------------------------------------------------------- exports are masked by default (issue 16 item 8)

PERSONAL = "我的手机13812345678,邮箱zhang.san@example.com,身份证110105194912310021"


def test_exports_and_the_list_mask_personal_data_by_default(connect: Connect, client: TestClient) -> None:
    started = conversation(connect, PERSONAL, customer={"name": "张三", "phone": "13812345678"})
    exported = client.get(f"/api/conversations/{started['conversation_id']}/export", headers=ALICE).json()
    text = json.dumps(exported, ensure_ascii=False)
    assert "13812345678" not in text and "zhang.san@" not in text and "110105194912310021" not in text
    assert "138****5678" in text
    listed = client.get("/api/conversations", headers=ALICE).json()["items"]
    mine = next(item for item in listed if item["id"] == started["conversation_id"])
    assert "13812345678" not in json.dumps(mine, ensure_ascii=False)


def test_a_raw_export_needs_an_agent_and_is_audited(connect: Connect, client: TestClient,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    started = conversation(connect, PERSONAL)
    path = f"/api/conversations/{started['conversation_id']}/export"
    customer = {"Authorization": f"Bearer {started['token']}"}
    assert client.get(path, params={"raw": "true"}, headers=customer).status_code == 401
    with caplog.at_level("WARNING", logger="huashu.audit"):
        raw = client.get(path, params={"raw": "true"}, headers=ALICE).json()
    assert "13812345678" in json.dumps(raw, ensure_ascii=False)
    (record,) = [r for r in caplog.records if r.name == "huashu.audit"]
    entry = json.loads(record.getMessage())
    assert (entry["event"], entry["by"], entry["conversation_id"]) == ("raw_export", "alice", started["conversation_id"])


def test_huashu_export_masks_unless_raw_and_audits_raw(make_client: Callable[..., TestClient], sqlite_url: str,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    from app.cli import app as cli

    conversation(Connect(make_client(sqlite_url)), PERSONAL)
    monkeypatch.setenv("HUASHU_DATABASE_URL", sqlite_url)
    masked = CliRunner().invoke(cli, ["export"])
    assert masked.exit_code == 0 and "13812345678" not in masked.stdout and "138****5678" in masked.stdout
    with caplog.at_level("WARNING", logger="huashu.audit"):
        raw = CliRunner().invoke(cli, ["export", "--raw"])
    assert raw.exit_code == 0 and "13812345678" in raw.stdout
    assert any(json.loads(r.getMessage())["event"] == "raw_export" for r in caplog.records if r.name == "huashu.audit")


# ---------------------------------------------------------------- one error shape, in the spec too (issue 16 item 10)


@pytest.mark.parametrize(("method", "path", "body", "status", "code"), [
    ("post", "/api/analyze", "{not json", 400, "bad_json"),
    ("post", "/api/analyze", '{"txt": 1}', 422, "invalid_field"),
    ("get", "/api/no-such-route", None, 404, "not_found"),
    ("delete", "/api/flows", None, 405, "method_not_allowed"),
])
def test_every_refusal_has_the_error_shape(client: TestClient, method: str, path: str, body: str | None,
                                           status: int, code: str) -> None:
    answer = client.request(method, path, content=body, headers={"Content-Type": "application/json", **ALICE})
    assert answer.status_code == status
    assert answer.json()["type"] == "error" and answer.json()["code"] == code and answer.json()["message"]
    assert "detail" not in answer.json()


def test_the_openapi_spec_lists_the_refusals_with_their_shape(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in ("/api/analyze", "/api/conversations/{conversation_id}", "/api/qa/replay", "/api/letters"):
        operation = next(iter(spec["paths"][path].values()))
        assert {"400", "401", "404", "422"} <= set(operation["responses"]), path
    assert "ErrorBody" in spec["components"]["schemas"]
