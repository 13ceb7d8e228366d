"""Measure a pack's intent model: on a labelled held-out file (`huashu nlu evaluate FILE`) and by
k-fold cross-validation on the pack's own examples (`huashu nlu test --folds K`).

In a held-out file each line is `{"text", "intent", "confirmation"?, "emotion"?, "slots"?, "today"?}`. Intent recall
and precision are reported per intent; confirmation, emotion and slot accuracy only over the lines
that carry that label. Relative dates resolve against the line's `today` or `DEFAULT_TODAY`.

The engine acts on an intent only at or above its flow's `min_confidence` (below it, it asks the
customer to clarify and keeps the topic), so the report also gives the share of messages the engine
would act on (coverage) and the accuracy on those, and how accuracy follows confidence (`calibration`:
per confidence band, and the expected calibration error) — what a pack's author reads to set
`min_confidence`.
"""

from __future__ import annotations

import bisect
import json
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final

from app.content.model import DEFAULT_MIN_CONFIDENCE
from app.nlu.agreement import Labels, line_key
from app.nlu.analyzer import Analyzer, get_analyzer
from app.nlu.resources import DataError, labelled_lines

DEFAULT_TODAY: Final = date(2026, 11, 22)
MOST_CONFUSED: Final = 10
# Lower edges of the calibration bands; 0.45 is the flows' default min_confidence.
CONFIDENCE_BANDS: Final = (0.0, 0.3, DEFAULT_MIN_CONFIDENCE, 0.6, 0.8, 0.95)
CV_SEED: Final = 20261205  # folds are drawn with a fixed seed, so two runs agree
TurnKey = tuple[str, int]  # (session id, turn index) in a transcript corpus


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
    min_confidence: float = DEFAULT_MIN_CONFIDENCE  # the engine acts on an intent at or above this
    acted: int = 0  # messages at or above min_confidence
    acted_correct: int = 0
    # per band of CONFIDENCE_BANDS: messages, correct ones, and the sum of their confidences
    banded: list[list[float]] = field(default_factory=lambda: [[0, 0, 0.0] for _ in CONFIDENCE_BANDS])

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def coverage(self) -> float:
        """The share of messages whose intent the engine would act on (the rest it clarifies)."""
        return self.acted / self.total if self.total else 0.0

    @property
    def acted_accuracy(self) -> float:
        """Accuracy on the messages at or above `min_confidence`."""
        return self.acted_correct / self.acted if self.acted else 0.0

    def calibration(self) -> list[dict[str, float]]:
        """Per confidence band: its edges, messages, accuracy and mean confidence (empty bands left out)."""
        edges = [*CONFIDENCE_BANDS[1:], 1.0]
        return [{"from": low, "to": high, "messages": int(n), "accuracy": round(hits / n, 4),
                 "mean_confidence": round(confidences / n, 4)}
                for low, high, (n, hits, confidences) in zip(CONFIDENCE_BANDS, edges, self.banded, strict=True) if n]

    @property
    def calibration_error(self) -> float:
        """Expected calibration error: the message-weighted mean gap between accuracy and confidence per band."""
        # messages × |accuracy − mean confidence| of a band is |correct − sum of confidences|
        return sum(abs(hits - confidences) for _, hits, confidences in self.banded) / self.total if self.total else 0.0

    def recall(self, intent: str) -> float:
        return self.hits[intent] / self.support[intent] if self.support[intent] else 0.0

    def precision(self, intent: str) -> float:
        return self.hits[intent] / self.predicted[intent] if self.predicted[intent] else 0.0

    def f1(self, intent: str) -> float:
        p, r = self.precision(intent), self.recall(intent)
        return 2 * p * r / (p + r) if p + r else 0.0

    def rate(self, aspect: str) -> float:
        return self.agreed[aspect] / self.labelled[aspect] if self.labelled[aspect] else 0.0

    def intents(self) -> list[str]:
        return sorted(self.support.keys() | self.predicted.keys())

    def confused(self) -> list[tuple[str, str, int]]:
        """(gold, predicted, count) pairs, most frequent first."""
        pairs = Counter((gold, predicted) for _, gold, predicted in self.errors)
        return [(g, p, n) for (g, p), n in sorted(pairs.items(), key=lambda item: (-item[1], item[0]))]

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of `huashu nlu test --json` and `huashu nlu evaluate --json`."""
        return {
            "total": self.total,
            "correct": self.correct,
            "accuracy": round(self.accuracy, 4),
            "intents": {
                intent: {"support": self.support[intent], "precision": round(self.precision(intent), 4),
                         "recall": round(self.recall(intent), 4), "f1": round(self.f1(intent), 4)}
                for intent in self.intents()
            },
            "confident": {"min_confidence": self.min_confidence, "messages": self.acted,
                          "coverage": round(self.coverage, 4), "accuracy": round(self.acted_accuracy, 4)},
            "calibration": {"bands": self.calibration(), "expected_error": round(self.calibration_error, 4)},
            "confused": [{"gold": g, "predicted": p, "count": n} for g, p, n in self.confused()[:MOST_CONFUSED]],
            "misclassified": [{"text": t, "gold": g, "predicted": p} for t, g, p in self.errors],
            "aspects": {aspect: {"labelled": self.labelled[aspect], "accuracy": round(self.rate(aspect), 4)}
                        for aspect in ("confirmation", "emotion", "slots") if self.labelled[aspect]},
        }

    def to_markdown(self) -> str:
        """The per-intent table, the most confused pairs and the aspect accuracies (as in docs/nlu.md)."""
        lines = ["| intent | n | precision | recall | F1 |", "|---|---:|---:|---:|---:|"]
        for intent in self.intents():
            lines.append(f"| {intent} | {self.support[intent]} | {self.precision(intent):.1%} | "
                         f"{self.recall(intent):.1%} | {self.f1(intent):.1%} |")
        lines.append(f"| **overall** | {self.total} | | **{self.accuracy:.1%}** | |")
        lines.append(f"| confidence ≥ {self.min_confidence:g} (acted on) | {self.acted} "
                     f"({self.coverage:.1%}) | | {self.acted_accuracy:.1%} | |")
        lines += ["", "| confidence | messages | accuracy | mean confidence |", "|---|---:|---:|---:|"]
        lines += [f"| {band['from']:g} – {band['to']:g} | {band['messages']} | {band['accuracy']:.1%} | "
                  f"{band['mean_confidence']:.2f} |" for band in self.calibration()]
        lines.append(f"| expected calibration error | | {self.calibration_error:.1%} | |")
        if self.errors:
            lines += ["", "| most confused: gold → predicted | n |", "|---|---:|"]
            lines += [f"| {g} → {p} | {n} |" for g, p, n in self.confused()[:MOST_CONFUSED]]
        if any(self.labelled.values()):
            lines += ["", "| aspect | labelled | accuracy |", "|---|---:|---:|"]
            for aspect in ("confirmation", "emotion", "slots"):
                if self.labelled[aspect]:
                    lines.append(f"| {aspect} | {self.labelled[aspect]} | {self.rate(aspect):.1%} |")
        return "\n".join(lines)


def read_labelled(path: str | Path, intents: Sequence[str], *, texts: Mapping[TurnKey, str] | None = None,
                  split: str | None = None) -> list[dict[str, Any]]:
    """The records of a labelled file; a bad line raises `DataError` naming the file, line and fault.

    A line is either `{"text", "intent", …}` or a reference into a transcript corpus,
    `{"session", "turn", "split", "intent"}` (a gold set that may not hold the text, such as the JDDC
    intent gold), whose text is looked up in `texts`. With `split`, only lines of that split are kept.
    """
    records = []
    for where, record in labelled_lines(path):
        if isinstance(record, dict) and "text" not in record and "session" in record:
            record = _resolve(record, texts, where)
        if not isinstance(record, dict) or not isinstance(record.get("text"), str) or not isinstance(record.get("intent"), str):
            raise DataError(f'{where}: each line is a JSON object with string "text" and "intent" '
                            '(or "session" and "turn" in place of "text")')
        if record["intent"] not in intents:
            raise DataError(f"{where}: intent {record['intent']!r} is not declared by the pack; declared: {', '.join(intents)}")
        if split is None or record.get("split") == split:
            records.append(record)
    return records


def referenced_turns(path: str | Path) -> set[TurnKey]:
    """The (session, turn) pairs a labelled file refers to instead of holding their text."""
    wanted: set[TurnKey] = set()
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line) if line.strip() else None
        except json.JSONDecodeError:
            continue  # read_labelled reports it with its line number
        if isinstance(record, dict) and "text" not in record and isinstance(record.get("session"), str) \
                and isinstance(record.get("turn"), int):
            wanted.add((record["session"], record["turn"]))
    return wanted


def _resolve(record: dict[str, Any], texts: Mapping[TurnKey, str] | None, where: str) -> dict[str, Any]:
    session, turn = record.get("session"), record.get("turn")
    if not isinstance(session, str) or not isinstance(turn, int) or isinstance(turn, bool):
        raise DataError(f'{where}: "session" must be a string and "turn" a turn index')
    if texts is None:
        raise DataError(f"{where}: the line refers to session {session} turn {turn}; give the corpus that holds it (--data)")
    text = texts.get((session, turn))
    if text is None:
        raise DataError(f"{where}: session {session} turn {turn} is not a customer turn of the corpus")
    return {**record, "text": text}


def evaluate(path: str | Path, analyzer: Analyzer | None = None, *, texts: Mapping[TurnKey, str] | None = None,
             split: str | None = None, min_confidence: float = DEFAULT_MIN_CONFIDENCE,
             agreed_with: Labels | None = None) -> Report:
    """Run `analyzer` (default: the default pack's) over the labelled file at `path`; with
    `agreed_with` (a second annotator's labels), only over the lines both gave the same intent."""
    analyzer = analyzer or get_analyzer()
    report = Report(min_confidence=min_confidence)
    for record in read_labelled(path, analyzer.intents.intents, texts=texts, split=split):
        if agreed_with is None or _labelled_alike(agreed_with, record):
            _score(report, analyzer, record)
    return report


def _labelled_alike(other: Labels, record: dict[str, Any]) -> bool:
    key = line_key(record)
    return key is not None and other.intents.get(key) == record["intent"]


def cross_validate(analyzer: Analyzer, examples: Sequence[tuple[str, str]], folds: int = 5, *,
                   min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> Report:
    """k-fold cross-validation of the intent model on a pack's (text, intent) examples.

    Folds are stratified by intent (each intent's examples, shuffled with a fixed seed, are dealt out
    in turn), so every fold tests every intent that has at least `folds` examples. Each fold refits
    only the intent model; the lexicons and the other analysers are the pack's own.
    """
    if folds < 2:
        raise DataError("cross-validation needs at least 2 folds")
    by_intent: dict[str, list[str]] = {}
    for text, intent in examples:
        by_intent.setdefault(intent, []).append(text)
    rng = random.Random(CV_SEED)
    fold_of: list[tuple[str, str, int]] = []
    for intent, texts in by_intent.items():
        shuffled = sorted(texts)
        rng.shuffle(shuffled)
        fold_of += [(text, intent, i % folds) for i, text in enumerate(shuffled)]
    report = Report(min_confidence=min_confidence)
    for fold in range(folds):
        train = [(text, intent) for text, intent, k in fold_of if k != fold]
        model = analyzer.refit(train)
        for text, intent, k in fold_of:
            if k == fold:
                _score(report, model, {"text": text, "intent": intent})
    return report


def _score(report: Report, analyzer: Analyzer, record: dict[str, Any]) -> None:
    today = date.fromisoformat(record["today"]) if "today" in record else DEFAULT_TODAY
    result = analyzer.analyze(record["text"], today=today)
    gold = record["intent"]
    report.total += 1
    report.support[gold] += 1
    report.predicted[result.intent] += 1
    correct = result.intent == gold
    band = report.banded[bisect.bisect_right(CONFIDENCE_BANDS, result.confidence) - 1]
    band[0] += 1
    band[1] += correct
    band[2] += result.confidence
    if result.confidence >= report.min_confidence:
        report.acted += 1
        report.acted_correct += correct
    if correct:
        report.correct += 1
        report.hits[gold] += 1
    else:
        report.errors.append((record["text"], gold, result.intent))
    observed = {"confirmation": result.confirmation, "emotion": result.emotion, "slots": dict(result.slots)}
    for aspect, value in observed.items():
        if aspect in record:
            report.labelled[aspect] += 1
            report.agreed[aspect] += int(record[aspect] == value)
