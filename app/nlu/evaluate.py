"""Measure the analyzer on a labelled JSON-lines file and print a markdown report.

    python -m app.nlu.evaluate nlu_data/heldout.jsonl

Each line is `{"text", "intent", "confirmation"?, "emotion"?, "slots"?, "today"?}`. Intent recall
and precision are reported per intent; confirmation, emotion and slot accuracy only over the lines
that carry that label. Relative dates resolve against the line's `today` or `DEFAULT_TODAY`.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final

from app.nlu.analyzer import Analyzer, get_analyzer

DEFAULT_TODAY: Final = date(2026, 11, 22)


@dataclass
class Report:
    """Counts from one evaluation run; the rates are derived from them."""

    total: int = 0
    correct: int = 0
    support: Counter[str] = field(default_factory=Counter)  # gold intent counts
    predicted: Counter[str] = field(default_factory=Counter)
    hits: Counter[str] = field(default_factory=Counter)  # correct per gold intent
    labelled: Counter[str] = field(default_factory=Counter)  # lines with a confirmation/emotion/slots label
    agreed: Counter[str] = field(default_factory=Counter)
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (text, gold, predicted)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def recall(self, intent: str) -> float:
        return self.hits[intent] / self.support[intent] if self.support[intent] else 0.0

    def precision(self, intent: str) -> float:
        return self.hits[intent] / self.predicted[intent] if self.predicted[intent] else 0.0

    def rate(self, aspect: str) -> float:
        return self.agreed[aspect] / self.labelled[aspect] if self.labelled[aspect] else 0.0

    def to_markdown(self) -> str:
        """The per-intent table and the aspect accuracies, as pasted into docs/nlu.md."""
        lines = ["| intent | n | accuracy (recall) | precision |", "|---|---:|---:|---:|"]
        for intent in sorted(self.support.keys() | self.predicted.keys()):
            lines.append(f"| {intent} | {self.support[intent]} | {self.recall(intent):.1%} | "
                         f"{self.precision(intent):.1%} |")
        lines.append(f"| **overall** | {self.total} | **{self.accuracy:.1%}** | |")
        lines.append("")
        lines.append("| aspect | labelled | accuracy |")
        lines.append("|---|---:|---:|")
        for aspect in ("confirmation", "emotion", "slots"):
            lines.append(f"| {aspect} | {self.labelled[aspect]} | {self.rate(aspect):.1%} |")
        return "\n".join(lines)


def evaluate(path: str | Path, analyzer: Analyzer | None = None) -> Report:
    """Run `analyzer` (default: the shared one) over the labelled file at `path`."""
    analyzer = analyzer or get_analyzer()
    report = Report()
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            _score(report, analyzer, json.loads(line))
    return report


def _score(report: Report, analyzer: Analyzer, record: dict[str, Any]) -> None:
    today = date.fromisoformat(record["today"]) if "today" in record else DEFAULT_TODAY
    result = analyzer.analyze(record["text"], today=today)
    gold = record["intent"]
    report.total += 1
    report.support[gold] += 1
    report.predicted[result.intent] += 1
    if result.intent == gold:
        report.correct += 1
        report.hits[gold] += 1
    else:
        report.errors.append((record["text"], gold, result.intent))
    observed = {"confirmation": result.confirmation, "emotion": result.emotion, "slots": dict(result.slots)}
    for aspect, value in observed.items():
        if aspect in record:
            report.labelled[aspect] += 1
            report.agreed[aspect] += int(record[aspect] == value)


def main(argv: list[str] | None = None) -> None:
    """CLI: print the markdown report (and, with --errors, every misclassified line)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("path", type=Path)
    parser.add_argument("--errors", action="store_true", help="also list misclassified messages")
    args = parser.parse_args(argv)
    report = evaluate(args.path)
    print(report.to_markdown())
    if args.errors:
        print("\n| text | gold | predicted |\n|---|---|---|")
        for text, gold, predicted in report.errors:
            print(f"| {text} | {gold} | {predicted} |")


if __name__ == "__main__":
    main()
