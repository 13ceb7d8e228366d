"""No QA output spreads a full phone or ID card number: JSON (`to_dict`, JSON Lines), REST, CSV and HTML.

The turns' texts and slots are masked where the JSON shape is made (`TurnTag.masked_text`, `masked_slots`);
the in-memory `TurnTag.text` keeps the real number, because the rules look for it there.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.qa.assessor import Assessor
from app.qa.model import Assessment
from app.qa.reports.jsonl import write_jsonl
from app.qa.reports.labels import ReportLabels
from app.qa.reports.page import render_report
from app.qa.reports.table import write_csv
from app.qa.scoring import summarize
from tests.api.wire import AGENT_TOKENS, ALICE
from tests.qa.conftest import agent, customer, transcript

PHONE, ID_CARD = "13812345678", "110101199003074514"  # a valid ID check digit, so it is a personal number
ID_CARD_X = "11010519491231002X"  # the NLU files the 17 digits before the X as an order id
ORDER_ID = "202611180001"
# Every run of digits that would give a number away, including the X card's 17 digits in an `order_id` slot.
FULL = (PHONE, ID_CARD, ID_CARD_X, ID_CARD_X[:-1])
TURNS = [
    ("customer", f"我的手机号{PHONE},身份证号{ID_CARD},洗衣机坏了不能脱水了"),
    ("agent", f"您好,我是小李。已登记您的电话{PHONE}和身份证{ID_CARD},稍后给您反馈。"),
    ("customer", f"我的身份证{ID_CARD_X}"),
    ("customer", f"订单号{ORDER_ID}"),
    ("agent", f"好的,您的手机{PHONE}已经为您更新。"),
]


@pytest.fixture
def assessed(assessor: Assessor) -> Assessment:
    made = {"customer": customer, "agent": agent}
    return assessor.assess(transcript(*(made[role](text) for role, text in TURNS), id="pii"))


def assert_no_full_number(text: str, where: str) -> None:
    for number in FULL:
        assert number not in text, f"{where} shows {number}"


def test_the_json_turns_mask_texts_and_personal_number_slots(assessed: Assessment) -> None:
    data = assessed.to_dict()
    assert_no_full_number(json.dumps(data, ensure_ascii=False), "to_dict")
    first, second, x_card, order, _ = data["turns"]
    assert first["text"] == "我的手机号138****5678,身份证号110***********4514,洗衣机坏了不能脱水了"
    assert first["slots"]["phone"] == "138****5678"
    assert second["text"] == "您好,我是小李。已登记您的电话138****5678和身份证110***********4514,稍后给您反馈。"
    assert x_card["text"] == "我的身份证110***********002X" and "order_id" not in x_card["slots"]  # never an order id
    # An order id is not a personal number: text and slot stay whole.
    assert order["text"] == f"订单号{ORDER_ID}" and order["slots"] == {"order_id": ORDER_ID}


def test_the_replayed_turns_keep_the_real_text_for_the_rules(assessed: Assessment) -> None:
    assert assessed.turns[0].text == TURNS[0][1] and assessed.turns[0].slots["phone"] == PHONE
    assert sum(f.rule == "pii.exposed" for f in assessed.findings) >= 2  # found in the agent's real text


def test_json_lines_csv_and_html_show_no_full_number(assessed: Assessment, assessor: Assessor, labels: ReportLabels) -> None:
    json_out, csv_out = io.StringIO(), io.StringIO()
    write_jsonl([assessed], json_out)
    write_csv([assessed], csv_out)
    page = render_report([assessed], [], summarize([assessed], assessor.rule_ids), labels=labels)
    rows = list(csv.DictReader(io.StringIO(csv_out.getvalue())))
    assert {"pii.exposed", "confirm.missing"} <= {r["rule"] for r in rows}  # the rows that quote the turns
    for where, text in (("json lines", json_out.getvalue()), ("csv", csv_out.getvalue()), ("html", page)):
        assert_no_full_number(text, where)
        assert "138****5678" in text and "110***********4514" in text, where


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'huashu.db'}", agent_tokens=AGENT_TOKENS, redis_url=None)
    with TestClient(create_app(settings)) as started:
        yield started


def test_the_rest_answer_shows_no_full_number(client: TestClient) -> None:
    body = {"id": "web-pii", "channel": "online", "turns": [{"role": r, "text": t} for r, t in TURNS]}
    answer = client.post("/api/qa/replay", json=body, headers=ALICE)
    assert answer.status_code == 200, answer.text
    assert_no_full_number(answer.text, "POST /api/qa/replay")
    assert answer.json()["turns"][0]["slots"]["phone"] == "138****5678"
