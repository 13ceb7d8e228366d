"""`huashu letter` and `huashu intake` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from tests.letters.conftest import EMAILS, SLOTS

runner = CliRunner()


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_letter_from_slots_in_each_format(fmt: str) -> None:
    result = runner.invoke(app, ["letter", "--kind", "consult", "--slots", json.dumps(SLOTS), "--format", fmt,
                                 "--today", "2026-11-26"])
    assert result.exit_code == 0, result.output
    assert "尊敬的张先生" in result.output and "2026年11月26日" in result.output


def test_letter_as_json_lists_its_parts() -> None:
    result = runner.invoke(app, ["letter", "--kind", "complaint", "--slots", json.dumps(SLOTS), "--format", "json"])
    data = json.loads(result.output)
    assert data["kind"] == "complaint" and data["name"] == "投诉处理函"
    assert [p["part"] for p in data["parts"]][:4] == ["salutation", "opening", "apology", "attention"]


def test_missing_facts_exit_1_with_the_list() -> None:
    result = runner.invoke(app, ["letter", "--kind", "consult", "--slots", '{"customer_name": "张先生"}', "--format", "json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["missing"] == ["enquiry_date", "solution"]


@pytest.mark.parametrize(("args", "says"), [
    (["--kind", "apology", "--slots", "{}"], "kinds are: consult, complaint, thanks, notice"),
    (["--kind", "thanks", "--slots", "[1]"], "--slots must be a JSON object"),
    (["--kind", "thanks", "--slots", "{not json"], "--slots must be a JSON object"),
    (["--kind", "thanks", "--transcript", "/no/such/file.json"], "no such transcript file"),
])
def test_bad_input_exits_2_saying_what_is_wrong(args: list[str], says: str) -> None:
    result = runner.invoke(app, ["letter", *args])
    assert result.exit_code == 2 and says in result.output


def test_letter_from_a_transcript_takes_the_date_the_facts_and_the_answers(tmp_path: Path) -> None:
    transcript = {"id": "t-1", "channel": "online", "turns": [
        {"role": "customer", "text": "你好,我的洗衣机XQG100保修多久?", "ts": "2026-11-18T09:00:00+08:00"},
        {"role": "agent", "text": "您好,XQG100的保修期为自购买之日起十二个月,保修期内非人为损坏的故障免费维修。",
         "ts": "2026-11-18T09:01:00+08:00"},
    ]}
    path = tmp_path / "t.json"
    path.write_text(json.dumps(transcript, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(app, ["letter", "--kind", "consult", "--transcript", str(path),
                                 "--slots", '{"customer_name": "张先生"}'])
    assert result.exit_code == 0, result.output
    assert "2026年11月18日" in result.output and "XQG100" in result.output and "自购买之日起十二个月" in result.output


def test_intake_prints_the_contract_fields() -> None:
    result = runner.invoke(app, ["intake", str(EMAILS / "missing.txt"), "--today", "2026-11-26"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"intent", "facts", "missing", "emotion", "draft"} <= set(data)
    assert data["missing"] == ["order_id", "product_model", "delivery_date", "contact"]


def test_intake_of_a_missing_or_empty_file_exits_2(tmp_path: Path) -> None:
    assert runner.invoke(app, ["intake", str(tmp_path / "none.eml")]).exit_code == 2
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    result = runner.invoke(app, ["intake", str(empty)])
    assert result.exit_code == 2 and "empty" in result.output
