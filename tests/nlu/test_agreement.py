"""Agreement between two annotators: the ceiling of any accuracy measured against their labels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from app.config import PROJECT_ROOT
from app.nlu.agreement import agreement, read_labels
from app.nlu.resources import DataError

runner = CliRunner()


def _write(path: Path, *records: dict[str, object]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    first = _write(tmp_path / "a.jsonl",
                   {"session": "s1", "turn": 0, "split": "dev", "intent": "greeting"},
                   {"session": "s1", "turn": 2, "split": "dev", "intent": "order_status"},
                   {"session": "s2", "turn": 0, "split": "test", "intent": "other"},
                   {"session": "s2", "turn": 4, "split": "test", "intent": "order_status"},
                   {"session": "s3", "turn": 0, "split": "test", "intent": "invoice"})
    second = _write(tmp_path / "b.jsonl",
                    {"session": "s1", "turn": 0, "intent": "greeting"},
                    {"session": "s1", "turn": 2, "intent": "other"},
                    {"session": "s2", "turn": 0, "intent": "other"},
                    {"session": "s2", "turn": 4, "intent": "other"},
                    {"session": "s9", "turn": 0, "intent": "invoice"})
    return first, second


def test_agreement_is_the_share_alike_and_kappa_corrects_for_chance(pair: tuple[Path, Path]) -> None:
    result = agreement(*map(read_labels, pair))
    assert (result.total, result.agreed, result.only_first, result.only_second) == (4, 2, 1, 1)
    assert result.rate == 0.5
    # chance: first greeting 1/4, order_status 2/4, other 1/4; second greeting 1/4, other 3/4
    chance = (1 * 1 + 1 * 3) / 16
    assert result.kappa == pytest.approx((0.5 - chance) / (1 - chance))
    assert result.disagreements == (("order_status", "other", 2),)


def test_agreement_on_one_split_counts_only_its_lines(pair: tuple[Path, Path]) -> None:
    result = agreement(*map(read_labels, pair), split="test")
    assert (result.total, result.agreed, result.only_first) == (2, 1, 1)


def test_lines_may_be_keyed_by_text(tmp_path: Path) -> None:
    first = _write(tmp_path / "a.jsonl", {"text": "发票怎么开", "intent": "invoice"}, {"text": "好的", "intent": "other"})
    second = _write(tmp_path / "b.jsonl", {"text": "好的", "intent": "other"}, {"text": "发票怎么开", "intent": "invoice"})
    result = agreement(read_labels(first), read_labels(second))
    assert (result.agreed, result.total, result.kappa) == (2, 2, 1.0)


@pytest.mark.parametrize(("line", "fault"), [
    ("not json", "invalid JSON"),
    ('{"intent": "other"}', '"session" and "turn" or "text"'),
    ('{"text": "好的", "intent": "greeting"}', "labelled twice"),
])
def test_a_bad_labels_line_is_named(tmp_path: Path, line: str, fault: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "好的", "intent": "other"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=f"{path}:2: .*{fault}"):
        read_labels(path)
    result = runner.invoke(app, ["nlu", "agreement", str(path), str(path)])
    assert result.exit_code == 2 and f"{path}:2" in result.output


def test_nlu_agreement_prints_and_emits_json(pair: tuple[Path, Path]) -> None:
    shown = runner.invoke(app, ["nlu", "agreement", *map(str, pair)])
    assert shown.exit_code == 0, shown.output
    assert "agreed on 2/4 lines (50.0%)" in shown.output and "| order_status → other | 2 |" in shown.output
    report = json.loads(runner.invoke(app, ["nlu", "agreement", *map(str, pair), "--json"]).stdout)
    assert report["agreement"] == 0.5 and report["disagreements"] == [{"first": "order_status", "second": "other", "count": 2}]


def test_the_jddc_gold_has_a_second_blind_annotation_of_every_line() -> None:
    gold = read_labels(PROJECT_ROOT / "nlu_data" / "jddc_intent_gold.jsonl")
    second = read_labels(PROJECT_ROOT / "nlu_data" / "jddc_intent_gold_second.jsonl")
    assert second.intents.keys() == gold.intents.keys()
    result = agreement(gold, second)
    assert (result.agreed, result.total) == (361, 391)  # docs/nlu.md: 92.3%, kappa 0.90
