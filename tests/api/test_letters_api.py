"""`POST /api/letters` and `POST /api/intake` on a real app (SQLite, and PostgreSQL when reachable)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import app as cli
from tests.api.wire import ALICE, Connect, only

pytestmark = pytest.mark.timeout(60)
EMAILS = Path(__file__).parents[1] / "letters" / "emails"
SLOTS = {"customer_name": "张先生", "enquiry_date": "2026-11-18", "solution": "该产品保修期为自购买之日起十二个月"}


def test_a_letter_from_slots(client: TestClient) -> None:
    answer = client.post("/api/letters", json={"kind": "consult", "slots": SLOTS, "format": "markdown"}, headers=ALICE)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["kind"] == "consult" and body["parts"][0]["part"] == "salutation"
    assert body["rendered"].startswith("**主题:") and "尊敬的张先生" in body["rendered"]


def test_missing_facts_answer_422_with_the_list(client: TestClient) -> None:
    answer = client.post("/api/letters", json={"kind": "complaint", "slots": {"customer_name": "张先生"}}, headers=ALICE)
    assert answer.status_code == 422
    assert answer.json()["code"] == "missing_facts" and answer.json()["missing"] == ["enquiry_date", "solution"]


@pytest.mark.parametrize(("body", "status"), [
    ({"kind": "apology", "slots": SLOTS}, 422),
    ({"kind": "consult", "slots": {"customer_name": 3}}, 422),
    ({"kind": "consult", "conversation_id": "no-such-id"}, 404),
    ({"kind": "consult", "transcript": {"id": "t", "turns": "nope"}}, 422),
])
def test_bad_requests_are_refused_with_the_error_shape(client: TestClient, body: dict[str, object], status: int) -> None:
    answer = client.post("/api/letters", json=body, headers=ALICE)
    assert answer.status_code == status, answer.text


def test_letters_need_agent_credentials(client: TestClient) -> None:
    assert client.post("/api/letters", json={"kind": "consult", "slots": SLOTS}).status_code == 401
    assert client.post("/api/intake", json={"email": "退货"}).status_code == 401


def test_a_letter_answers_a_stored_conversation(connect: Connect, client: TestClient) -> None:
    with connect.customer() as customer:
        started = only(customer.exchange({"type": "start", "customer": {"name": "张先生"}}), "started")
        customer.exchange({"type": "message", "id": "c-1", "text": "洗衣机XQG100保修多久?"})
    answer = client.post("/api/letters", json={"kind": "consult", "conversation_id": started["conversation_id"]},
                         headers=ALICE)
    assert answer.status_code == 200, answer.text
    text = answer.json()["text"]
    assert "尊敬的张先生" in text and "XQG100" in text  # the customer's name and product from the conversation


def test_intake_opens_an_email_conversation_with_the_customers_words(client: TestClient) -> None:
    email = (EMAILS / "angry.eml").read_text(encoding="utf-8")
    answer = client.post("/api/intake", json={"email": email, "today": "2026-11-26"}, headers=ALICE)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["intent"], body["emotion"], body["kind"]) == ("complaint", "angry", "complaint")
    assert {"facts", "missing", "draft"} <= set(body)
    stored = client.get(f"/api/conversations/{body['conversation_id']}", headers=ALICE).json()
    assert stored["channel"] == "email" and stored["flow"] == "email" and stored["mode"] == "human"
    assert any(m["role"] == "customer" and "地板刮坏" in m["text"] for m in stored["messages"])


def test_intake_of_an_empty_email_is_refused(client: TestClient) -> None:
    answer = client.post("/api/intake", json={"email": "   "}, headers=ALICE)
    assert answer.status_code == 422 and answer.json()["type"] == "error"


def test_huashu_letter_reads_a_stored_conversation(make_client: Callable[..., TestClient], sqlite_url: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(sqlite_url)
    with Connect(client).customer() as customer:
        started = only(customer.exchange({"type": "start", "customer": {"name": "李女士"}}), "started")
        customer.exchange({"type": "message", "id": "c-1", "text": "你们送货太慢了,我要投诉,订单号202611180001"})
    monkeypatch.setenv("HUASHU_DATABASE_URL", sqlite_url)
    result = CliRunner().invoke(cli, ["letter", "--kind", "complaint", "--conversation", started["conversation_id"],
                                      "--slots", json.dumps({"solution": "为您补偿20元优惠券"})])
    assert result.exit_code == 0, result.output
    assert "尊敬的李女士" in result.output and "202611180001" in result.output
    missing = CliRunner().invoke(cli, ["letter", "--kind", "complaint", "--conversation", "nope"])
    assert missing.exit_code == 2 and "no conversation" in missing.output
