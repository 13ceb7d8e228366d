"""Intent accuracy on messages nobody tuned on: the written unseen sets of both packs and real JDDC turns.

Each labelled set has a `dev` half (errors may be read and fixed) and a `test` half that is only ever
measured. The floors sit a little under the figures in docs/nlu.md, so a data or rule change that
costs real accuracy fails here.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from app.config import PROJECT_ROOT
from app.content.loader import load_intents
from app.nlu.agreement import read_labels
from app.nlu.analyzer import Analyzer, get_analyzer
from app.nlu.evaluate import evaluate, read_labelled, referenced_turns
from app.nlu.resources import DataError
from app.qa.sources import customer_turn_texts
from tests.nlu.support import INTENTS, JDDC

runner = CliRunner()
TELECOM = PROJECT_ROOT / "examples" / "telecom"
RETAIL_UNSEEN = PROJECT_ROOT / "nlu_data" / "unseen.jsonl"
TELECOM_UNSEEN = TELECOM / "nlu_data" / "unseen.jsonl"
JDDC_GOLD = PROJECT_ROOT / "nlu_data" / "jddc_intent_gold.jsonl"
JDDC_SECOND = PROJECT_ROOT / "nlu_data" / "jddc_intent_gold_second.jsonl"
JDDC_ADJUDICATED = PROJECT_ROOT / "nlu_data" / "jddc_intent_gold_adjudicated.jsonl"
SECOND_BATCH = {"retail": PROJECT_ROOT / "nlu_data" / "unseen2.jsonl", "telecom": TELECOM / "nlu_data" / "unseen2.jsonl"}

# Test halves as measured in docs/nlu.md (lines equal to a training example left out): retail 94.7% (72/76),
# telecom 98.2% (55/56); JDDC 82.2% (139/169).
UNSEEN_TEST_FLOOR = 0.92
JDDC_TEST_FLOOR = 0.78


@pytest.fixture(scope="module")
def telecom() -> Analyzer:
    return get_analyzer(TELECOM / "scripts_zh")


def _truly_unseen(path: Path, scripts: Path, analyzer: Analyzer, split: str, tmp_path: Path) -> tuple[Path, int]:
    """The split's lines minus those equal to a training example after normalisation ("好", "哈喽" are
    bound to recur), written to a file of their own; and how many were dropped."""
    training = {analyzer.normalizer(text) for spec in load_intents(scripts).values() for text in spec.examples}
    records = read_labelled(path, analyzer.intents.intents, split=split)
    kept = [r for r in records if analyzer.normalizer(r["text"]) not in training]
    out = tmp_path / f"{split}.jsonl"
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept), encoding="utf-8")
    return out, len(records) - len(kept)


@pytest.mark.parametrize("pack", ["retail", "telecom"])
def test_unseen_test_half_stays_above_floor(pack: str, analyzer: Analyzer, telecom: Analyzer, tmp_path: Path) -> None:
    model, unseen, scripts = ((analyzer, RETAIL_UNSEEN, PROJECT_ROOT / "scripts_zh") if pack == "retail"
                              else (telecom, TELECOM_UNSEEN, TELECOM / "scripts_zh"))
    path, dropped = _truly_unseen(unseen, scripts, model, "test", tmp_path)
    report = evaluate(path, model)
    assert dropped <= 0.05 * (report.total + dropped)  # the set stays one of new messages
    assert report.total >= 55
    assert report.accuracy >= UNSEEN_TEST_FLOOR, report.to_markdown()


# The second batch (docs/nlu.md), lines equal to a training example left out: retail 95.0% (151/159),
# telecom 94.9% (129/136). Its writer kept short greetings and acknowledgements ("你好", "好的", "转人工"),
# which every pack's examples hold too: up to 12% of its lines recur.
SECOND_BATCH_FLOOR = 0.92


@pytest.mark.parametrize("pack", ["retail", "telecom"])
def test_second_unseen_batch_stays_above_floor(pack: str, analyzer: Analyzer, telecom: Analyzer, tmp_path: Path) -> None:
    model, scripts = (analyzer, PROJECT_ROOT / "scripts_zh") if pack == "retail" else (telecom, TELECOM / "scripts_zh")
    path, dropped = _truly_unseen(SECOND_BATCH[pack], scripts, model, "test", tmp_path)
    report = evaluate(path, model)
    assert dropped <= 0.12 * (report.total + dropped)
    assert report.total >= 130
    assert report.accuracy >= SECOND_BATCH_FLOOR, report.to_markdown()


def test_adjudication_decides_only_the_lines_the_annotators_disagree_on() -> None:
    first, second, final = (read_labels(path) for path in (JDDC_GOLD, JDDC_SECOND, JDDC_ADJUDICATED))
    assert first.intents.keys() == second.intents.keys() == final.intents.keys()
    assert final.splits == first.splits
    for key, label in final.intents.items():
        if first.intents[key] == second.intents[key]:
            assert label == first.intents[key]
        else:
            assert label in set(INTENTS)
    decided = [key for key in first.intents if first.intents[key] != second.intents[key]]
    assert len(decided) == 30  # docs/nlu.md: 20 went the second annotator's way, 10 the first's


def test_jddc_gold_holds_ids_and_labels_only_and_splits_by_session() -> None:
    for gold in (JDDC_GOLD, JDDC_SECOND, JDDC_ADJUDICATED):
        lines = [json.loads(line) for line in gold.read_text(encoding="utf-8").splitlines() if line.strip()]
        assert all(set(line) == {"session", "turn", "split", "intent"} for line in lines), gold  # never the text
    lines = [json.loads(line) for line in JDDC_GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(lines) >= 350
    assert {line["intent"] for line in lines} <= set(INTENTS)
    splits: dict[str, set[str]] = defaultdict(set)
    for line in lines:
        splits[line["session"]].add(line["split"])
    assert all(len(halves) == 1 for halves in splits.values())  # a conversation is in one half only


def test_jddc_test_half_stays_above_floor(analyzer: Analyzer) -> None:
    if not JDDC.is_file():
        pytest.skip(f"JDDC sample not found at {JDDC}")
    texts = customer_turn_texts(JDDC, referenced_turns(JDDC_GOLD))
    report = evaluate(JDDC_GOLD, analyzer, texts=texts, split="test")
    assert report.total >= 150
    assert report.accuracy >= JDDC_TEST_FLOOR, report.to_markdown()


# ---------------------------------------------------------------- gold files that refer to a corpus

ROWS = [("s1", "0", "你好"), ("s1", "1", "您好,请问有什么可以帮您?"), ("s1", "0", "我要开发票"),
        ("s2", "0", "我的快递到哪了")]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "chat.tsv"
    path.write_text("".join(f"{s}\tU1\t{who}\t0\t0\tnan\t{text}\n" for s, who, text in ROWS), encoding="utf-8")
    return path


def _gold(tmp_path: Path, *lines: dict[str, object]) -> Path:
    path = tmp_path / "gold.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def test_nlu_evaluate_looks_referenced_turns_up_in_the_corpus_and_keeps_one_split(tmp_path: Path, corpus: Path) -> None:
    gold = _gold(tmp_path, {"session": "s1", "turn": 0, "split": "dev", "intent": "greeting"},
                 {"session": "s1", "turn": 2, "split": "test", "intent": "invoice"},
                 {"session": "s2", "turn": 0, "split": "test", "intent": "complaint"})  # deliberately wrong
    result = runner.invoke(app, ["nlu", "evaluate", str(gold), "--data", str(corpus), "--split", "test", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["total"], report["correct"]) == (2, 1)
    assert report["misclassified"] == [{"text": "我的快递到哪了", "gold": "complaint", "predicted": "order_status"}]


def test_a_reference_to_an_agent_turn_is_refused_with_its_line(tmp_path: Path, corpus: Path) -> None:
    gold = _gold(tmp_path, {"session": "s1", "turn": 1, "split": "dev", "intent": "greeting"})
    result = runner.invoke(app, ["nlu", "evaluate", str(gold), "--data", str(corpus)])
    assert result.exit_code == 2
    assert "gold.jsonl:1" in result.output and "not a customer turn" in result.output


def test_references_without_a_corpus_are_refused(analyzer: Analyzer, tmp_path: Path) -> None:
    gold = _gold(tmp_path, {"session": "s1", "turn": 0, "split": "dev", "intent": "greeting"})
    with pytest.raises(DataError, match="--data"):
        evaluate(gold, analyzer)
