"""Evaluation report and its command line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from app.nlu.analyzer import Analyzer
from app.nlu.evaluate import evaluate, main

Labelled = Callable[..., Path]


@pytest.fixture
def labelled(tmp_path: Path) -> Labelled:
    """Factory: a JSON-lines file of the given records."""
    def write(*records: dict[str, object]) -> Path:
        path = tmp_path / "labelled.jsonl"
        lines = [json.dumps(record, ensure_ascii=False) for record in records]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path
    return write


def test_report_counts_recall_precision_and_aspects(analyzer: Analyzer, labelled: Labelled) -> None:
    path = labelled(
        {"text": "转人工", "intent": "handoff", "confirmation": "unclear"},
        {"text": "我要退货", "intent": "invoice", "emotion": "neutral"},  # deliberately mislabelled
        {"text": "昨天下的单", "intent": "order_status", "slots": {"date": "2026-03-01"}, "today": "2026-03-02"},
    )
    report = evaluate(path, analyzer)
    assert report.total == 3
    assert report.recall("handoff") == 1.0
    assert report.recall("invoice") == 0.0
    assert report.precision("return_refund") == 0.0
    assert report.rate("confirmation") == report.rate("emotion") == report.rate("slots") == 1.0
    assert report.errors == [("我要退货", "invoice", "return_refund")]


def test_cli_prints_a_markdown_table(labelled: Labelled, capsys: pytest.CaptureFixture[str]) -> None:
    main([str(labelled({"text": "你好", "intent": "greeting"})), "--errors"])
    out = capsys.readouterr().out
    assert "| greeting | 1 | 100.0% | 100.0% |" in out
    assert "**overall**" in out
