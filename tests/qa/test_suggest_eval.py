"""`huashu qa suggest-eval`: were the sidebar's suggestions of the stage real agents used next?"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from app.config import PROJECT_ROOT
from tests.qa.support import write_jddc_log, write_jsonl

runner = CliRunner()
STAGE_GOLD = PROJECT_ROOT / "qa_data" / "jddc_stage_gold.jsonl"
TEST_HALF_FLOOR = 0.60  # 66.5% on 2026-12-05 with `assist_also: [answer, close-check]` (26.4% without)

# A two-session JDDC log in the published format (session, customer, sender, 2 flags, SKU, text).
ROWS = [
    ("s1", "0", "你好 在吗"),
    ("s1", "1", "您好,请问有什么可以帮您?"),
    ("s1", "0", "我的快递到哪了"),
    ("s1", "1", "请您稍等,正在为您查询~!@@@!您的订单已经发货了,预计明天送达"),
    ("s1", "1", "请问还有其他可以帮到您的吗?"),
    ("s2", "0", "发票开错了"),
    ("s2", "1", "非常抱歉,您是要改成公司抬头是吧"),
    ("s2", "1", "哈哈好的"),
    ("s2", "1", "感谢您对京东的支持,祝您生活愉快,再见!"),
]
# (session, turn, stage, split); the row joined by !@@@! is two turns (3 and 4)
LABELS = [("s1", 1, "greeting", "dev"), ("s1", 3, "waiting", "test"), ("s1", 4, "answer", "test"),
          ("s1", 5, "close-check", "test"), ("s2", 1, "confirm", "test"), ("s2", 2, "other", "test"),
          ("s2", 3, "farewell", "test")]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return write_jddc_log(tmp_path / "chat.tsv", ROWS)


@pytest.fixture
def gold(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "gold.jsonl", [{"session": s, "turn": t, "split": split, "stage": stage, "stages": [stage]}
                                                 for s, t, stage, split in LABELS])


def suggest_eval(*args: str) -> dict[str, object]:
    result = runner.invoke(app, ["qa", "suggest-eval", *args, "--json"])
    assert result.exit_code == 0, result.output
    report: dict[str, object] = json.loads(result.stdout)
    return report


def confused(report: dict[str, object]) -> set[tuple[str, str]]:
    return {(c["gold"], c["suggested"]) for c in report["confused"]}  # type: ignore[attr-defined,index]


def test_suggest_eval_scores_every_labelled_agent_turn_but_talk_outside_the_script(gold: Path, data: Path) -> None:
    report = suggest_eval(str(gold), "--data", str(data))
    assert report["turns"] == 6  # the `other` turn is not scored
    first, shown = report["first"], report["shown"]
    assert 1 <= first["turns"] <= shown["turns"] < 6  # type: ignore[index,operator]
    # after the agent's answer the script expects the close-check, so the first suggestion was one
    assert ("close-check", "close-check") not in confused(report)
    # the customer spoke first, so the script was listening when the agent greeted
    assert ("greeting", "listen") in confused(report)


def test_suggest_eval_prints_the_same_figures(gold: Path, data: Path) -> None:
    report = suggest_eval(str(gold), "--data", str(data))
    result = runner.invoke(app, ["qa", "suggest-eval", str(gold), "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert "labelled agent turns: 6" in result.stdout
    assert f"any suggestion of the agent's stage: {report['shown']['turns']}/6" in result.stdout  # type: ignore[index]
    assert "greeting → listen: 1" in result.stdout


def test_suggest_eval_scores_only_the_requested_split(gold: Path, data: Path) -> None:
    assert suggest_eval(str(gold), "--data", str(data), "--split", "test")["turns"] == 5


def test_the_flows_assist_also_stages_are_what_lifts_the_shown_rate(gold: Path, data: Path, tmp_path: Path) -> None:
    plain = tmp_path / "flows"
    shutil.copytree(PROJECT_ROOT / "flows", plain)
    default = plain / "default.yaml"
    default.write_text("".join(line for line in default.read_text(encoding="utf-8").splitlines(keepends=True)
                               if not line.startswith("assist_also:")), encoding="utf-8")

    without = suggest_eval(str(gold), "--data", str(data), "--flows", str(plain))
    with_also = suggest_eval(str(gold), "--data", str(data))

    assert without["shown"] == without["first"]  # one stage only: shown whenever first
    assert with_also["shown"]["turns"] > without["shown"]["turns"]  # type: ignore[index]
    assert with_also["first"] == without["first"]  # the state's own phrasing still comes first


def test_suggest_eval_refuses_an_unknown_split_and_names_a_broken_gold(tmp_path: Path, data: Path) -> None:
    gold = tmp_path / "bad.jsonl"
    gold.write_text(json.dumps({"session": "s1", "turn": 2, "split": "test", "stage": "answer", "stages": ["answer"]})
                    + "\n", encoding="utf-8")
    wrong_split = runner.invoke(app, ["qa", "suggest-eval", str(gold), "--data", str(data), "--split", "train"])
    assert wrong_split.exit_code == 2 and "unknown split 'train'" in wrong_split.stderr
    broken = runner.invoke(app, ["qa", "suggest-eval", str(gold), "--data", str(data)])
    assert broken.exit_code == 1 and "customer" in broken.stderr  # turn 2 is the customer's, not an agent turn


def test_the_sidebar_offers_what_real_agents_did_on_the_test_half(jddc_sample: Path) -> None:
    report = suggest_eval(str(STAGE_GOLD), "--data", str(jddc_sample), "--split", "test")
    assert report["turns"] == 227
    assert float(report["shown"]["rate"]) >= TEST_HALF_FLOOR  # type: ignore[index]
