"""`GET /metrics` (Prometheus text format) and JSON logs (issue 16, observability)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from app.api.logs import JsonFormatter, conversation_id_var
from tests.api.server import Server, ws_client
from tests.api.wire import Connect, only

pytestmark = pytest.mark.timeout(120)


def samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = client.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(answer.text) for s in family.samples}


def test_metrics_count_turns_errors_handoffs_and_the_store(connect: Connect, client: TestClient) -> None:
    with connect.started() as (customer, _):
        customer.exchange({"type": "message", "id": "m-1", "text": "我的快递到哪了"})
        customer.exchange("{not json")
        customer.exchange({"type": "message", "id": "m-2", "text": "转人工"})
        during = samples(client)
        assert during[("huashu_connections_active", (("endpoint", "chat"),))] == 1
    after = samples(client)
    assert after[("huashu_turns_total", (("endpoint", "chat"),))] == 2
    assert after[("huashu_turn_seconds_count", (("endpoint", "chat"),))] == 2
    assert after[("huashu_errors_total", (("code", "bad_json"),))] == 1
    assert after[("huashu_handoffs_total", ())] == 1
    assert after[("huashu_connections_active", (("endpoint", "chat"),))] == 0
    assert after[("huashu_conversations_live", ())] >= 1
    assert after[("huashu_store_commits_total", ())] >= 3 and after[("huashu_store_commit_seconds_total", ())] > 0


def test_metrics_hold_no_conversation_ids_or_text(connect: Connect, client: TestClient) -> None:
    with connect.started() as (customer, frames):
        customer.exchange({"type": "message", "id": "m-1", "text": "我要退货,订单号202611180001"})
        conversation_id = only(frames, "started")["conversation_id"]
    text = client.get("/metrics").text
    assert conversation_id not in text and "202611180001" not in text and "退货" not in text


def test_json_log_lines_carry_the_conversation_id_not_the_text() -> None:
    record = logging.LogRecord("app.api.socket", logging.WARNING, __file__, 1, "store slow: %d ms", (250,), None)
    token = conversation_id_var.set("c-123")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        conversation_id_var.reset(token)
    assert line["conversation_id"] == "c-123" and line["message"] == "store slow: 250 ms" and line["level"] == "warning"


async def test_a_server_with_json_logs_writes_only_json_lines(tmp_path: Path) -> None:
    server = Server(f"sqlite:///{tmp_path / 'h.db'}", tmp_path,
                    env={"HUASHU_LOG_FORMAT": "json", "HUASHU_LOG_LEVEL": "info"}).start()
    try:
        async with ws_client(f"{server.ws}/ws/chat") as customer:
            only(await customer.exchange({"type": "start"}), "started")
    finally:
        server.stop()
    lines = [line for line in server.log.read_text(encoding="utf-8").splitlines() if line.strip()]
    parsed = [json.loads(line) for line in lines if line.startswith("{")]
    assert parsed and len(parsed) == len([line for line in lines if not line.startswith(("dev:", "agent token"))])
    assert any("/ws/chat" in entry["message"] for entry in parsed)
