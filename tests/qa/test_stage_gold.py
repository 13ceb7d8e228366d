"""The hand-labelled stage gold standard (qa_data/jddc_stage_gold.jsonl) and `huashu qa tagger-eval`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from app.config import PROJECT_ROOT
from app.engine.step import Engine
from app.qa.stage_gold import evaluate, load_gold, read_texts
from tests.qa.support import write_jddc_log

runner = CliRunner()
GOLD = PROJECT_ROOT / "qa_data" / "jddc_stage_gold.jsonl"
TEST_HALF_FLOOR = 0.90  # issue 11: the tagger agrees with people on at least 90% of the held-out turns

# A two-session JDDC log in the published format (session, customer, sender, 2 flags, SKU, text).
ROWS = [
    ("s1", "0", "你好 在吗"),
    ("s1", "1", "您好,请问有什么可以帮您?"),
    ("s1", "0", "我的快递到哪了"),
    ("s1", "1", "请您稍等,正在为您查询~!@@@!您的订单已经发货了,预计明天送达"),
    ("s1", "1", "请问还有其他可以帮到您的吗?"),
    ("s2", "0", "发票开错了"),
    ("s2", "1", "非常抱歉,您是要改成公司抬头是吧"),
    ("s2", "1", "感谢您对京东的支持,祝您生活愉快,再见!"),
]


def gold_line(session: str, turn: int, stage: str, stages: list[str] | None = None, split: str = "test") -> str:
    return json.dumps({"session": session, "turn": turn, "split": split, "stage": stage, "stages": stages or [stage]})


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return write_jddc_log(tmp_path / "chat.tsv", ROWS)


@pytest.fixture
def gold(tmp_path: Path) -> Path:
    # Turn indexes as the importer makes them: the row joined by !@@@! is two turns (3 and 4).
    lines = [
        gold_line("s1", 1, "greeting", split="dev"),
        gold_line("s1", 3, "waiting"),
        gold_line("s1", 4, "answer"),
        gold_line("s1", 5, "close-check"),
        gold_line("s2", 1, "confirm", ["apology", "confirm"]),
        gold_line("s2", 2, "answer", ["farewell", "answer"]),  # deliberately wrong: the tagger says farewell
    ]
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_test_half_of_the_gold_standard_agrees_at_least_90_percent(engine: Engine, jddc_sample: Path) -> None:
    turns = load_gold(GOLD)
    agreement = evaluate(engine.tagger, turns, read_texts(turns, jddc_sample, str(GOLD)), "test")
    assert agreement.turns >= 200
    assert agreement.accuracy >= TEST_HALF_FLOOR, agreement.to_dict()["confusions"]


def test_the_gold_standard_labels_at_least_420_turns_split_in_halves() -> None:
    turns = load_gold(GOLD)
    dev = sum(t.split == "dev" for t in turns)
    assert len(turns) >= 420 and 0.4 <= dev / len(turns) <= 0.6
    by_session: dict[str, set[str]] = {}
    for t in turns:
        by_session.setdefault(t.session, set()).add(t.split)
    assert all(len(splits) == 1 for splits in by_session.values())  # split by session, never inside one


def test_tagger_eval_prints_agreement_and_per_stage_precision_recall(gold: Path, data: Path) -> None:
    result = runner.invoke(app, ["qa", "tagger-eval", str(gold), "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert "split all: 6 labelled agent turn(s)" in result.stdout
    assert "primary stage agreement: 5/6 = 83.3%" in result.stdout
    assert "precision" in result.stdout and "recall" in result.stdout
    assert "answer → farewell: 1" in result.stdout


def test_tagger_eval_json_gives_the_same_figures(gold: Path, data: Path) -> None:
    result = runner.invoke(app, ["qa", "tagger-eval", str(gold), "--data", str(data), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["turns"] == 6 and report["primary"] == {"correct": 5, "accuracy": 0.8333}
    farewell = next(s for s in report["per_stage"] if s["stage"] == "farewell")
    assert (farewell["support"], farewell["predicted"], farewell["correct"], farewell["precision"]) == (0, 1, 0, 0.0)
    answer = next(s for s in report["per_stage"] if s["stage"] == "answer")
    assert (answer["support"], answer["correct"], answer["recall"]) == (2, 1, 0.5)
    assert report["confusions"] == [{"gold": "answer", "tagged": "farewell", "count": 1}]
    assert 0 < report["stages"]["mean_overlap"] < 1


def test_tagger_eval_scores_only_the_requested_split(gold: Path, data: Path) -> None:
    result = runner.invoke(app, ["qa", "tagger-eval", str(gold), "--data", str(data), "--split", "dev", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["turns"] == 1


def test_tagger_eval_refuses_an_unknown_split(gold: Path, data: Path) -> None:
    result = runner.invoke(app, ["qa", "tagger-eval", str(gold), "--data", str(data), "--split", "train"])
    assert result.exit_code == 2 and "unknown split 'train'" in result.stderr


def test_tagger_eval_reports_a_missing_gold_file(tmp_path: Path, data: Path) -> None:
    result = runner.invoke(app, ["qa", "tagger-eval", str(tmp_path / "nope.jsonl"), "--data", str(data)])
    assert result.exit_code == 1 and "nope.jsonl: no such gold file" in result.stderr


def test_tagger_eval_reports_a_missing_data_file(gold: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["qa", "tagger-eval", str(gold), "--data", str(tmp_path / "none.tsv")])
    assert result.exit_code == 1 and "none.tsv: no such JDDC data file" in result.stderr


def test_tagger_eval_lists_every_broken_gold_line_with_its_number(tmp_path: Path, data: Path) -> None:
    gold = tmp_path / "broken.jsonl"
    gold.write_text(
        "\n".join(
            [
                "{not json",
                gold_line("s1", 1, "greeting"),
                json.dumps({"session": "s1", "turn": 3, "split": "test", "stage": "hello", "stages": ["hello"]}),
                json.dumps({"session": "s1", "turn": 4, "split": "test", "stage": "answer", "stages": ["waiting"]}),
                json.dumps({"session": "s1", "turn": 5, "split": "train", "stage": "answer", "stages": ["answer"]}),
                gold_line("s1", 1, "greeting"),
            ]
        ),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["qa", "tagger-eval", str(gold), "--data", str(data), "--json"])
    assert result.exit_code == 1
    errors = json.loads(result.stdout)["errors"]
    assert [e["line"] for e in errors] == [1, 3, 4, 5, 6]
    assert "`stages` must be a non-empty list" in errors[1]["message"]
    assert "`stage` 'answer' must be one of the turn's `stages`" in errors[2]["message"]
    assert "already labelled on line 2" in errors[4]["message"]


@pytest.mark.parametrize(
    ("session", "turn", "message"),
    [
        ("s9", 1, "unknown session s9"),
        ("s1", 6, "session s1 has 6 turns; turn 6 is out of range"),
        ("s1", 2, "session s1 turn 2 is a customer turn, not an agent turn"),
    ],
)
def test_tagger_eval_refuses_a_label_that_points_at_no_agent_turn(
    tmp_path: Path, data: Path, session: str, turn: int, message: str
) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text(gold_line("s1", 1, "greeting") + "\n" + gold_line(session, turn, "answer") + "\n", encoding="utf-8")
    result = runner.invoke(app, ["qa", "tagger-eval", str(gold), "--data", str(data)])
    assert result.exit_code == 1
    assert f"gold.jsonl:2: {message}" in result.stderr
