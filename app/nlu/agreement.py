"""How far two annotators agree on the intents of the same messages (`huashu nlu agreement A B`).

A model cannot be measured more finely than its labels: where two people who follow the same
labelling conventions disagree on a share of real messages, no classifier scores above roughly that
agreement against either of them. Agreement is the share of common lines with the same label, and
Cohen's kappa the same corrected for the agreement two annotators would reach by chance with their
label frequencies.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.nlu.resources import DataError, labelled_lines

LineKey = tuple[str, int] | str  # (session, turn) of a transcript corpus, or the text itself


@dataclass(frozen=True)
class Labels:
    """One annotator's intent per line, keyed by (session, turn) or by text, and each line's split."""

    intents: Mapping[LineKey, str]
    splits: Mapping[LineKey, str]


@dataclass(frozen=True)
class Agreement:
    total: int  # lines both annotators labelled
    agreed: int
    kappa: float
    only_first: int  # lines only the first file labels
    only_second: int
    disagreements: tuple[tuple[str, str, int], ...]  # (first's label, second's label, count), most frequent first

    @property
    def rate(self) -> float:
        return self.agreed / self.total if self.total else 0.0

    def to_markdown(self) -> str:
        lines = [f"agreed on {self.agreed}/{self.total} lines ({self.rate:.1%}), Cohen's kappa {self.kappa:.3f}"]
        if self.only_first or self.only_second:
            lines.append(f"labelled by one file only: {self.only_first} (first), {self.only_second} (second)")
        if self.disagreements:
            lines += ["", "| first → second | n |", "|---|---:|"]
            lines += [f"| {a} → {b} | {n} |" for a, b, n in self.disagreements]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of `huashu nlu agreement --json`."""
        return {
            "total": self.total, "agreed": self.agreed, "agreement": round(self.rate, 4),
            "kappa": round(self.kappa, 4), "only_first": self.only_first, "only_second": self.only_second,
            "disagreements": [{"first": a, "second": b, "count": n} for a, b, n in self.disagreements],
        }


def line_key(record: Mapping[str, Any]) -> LineKey | None:
    """(session, turn) when the line names them, else its text; None when it has neither."""
    session, turn = record.get("session"), record.get("turn")
    if isinstance(session, str) and isinstance(turn, int) and not isinstance(turn, bool):
        return (session, turn)
    text = record.get("text")
    return text if isinstance(text, str) else None


def read_labels(path: str | Path) -> Labels:
    """An annotator's file: `{"session", "turn", "intent"}` or `{"text", "intent"}` per line (`"split"` optional).

    A line that is not such an object, or a line labelled twice, raises `DataError` naming the line.
    """
    intents: dict[LineKey, str] = {}
    splits: dict[LineKey, str] = {}
    for where, record in labelled_lines(path):
        key = line_key(record) if isinstance(record, dict) else None
        if key is None or not isinstance(record.get("intent"), str):
            raise DataError(f'{where}: each line is a JSON object with "intent" and either "session" and "turn" or "text"')
        if key in intents:
            raise DataError(f"{where}: {key!r} is labelled twice")
        intents[key] = record["intent"]
        if isinstance(record.get("split"), str):
            splits[key] = record["split"]
    return Labels(intents, splits)


def agreement(first: Labels, second: Labels, *, split: str | None = None) -> Agreement:
    """Agreement and Cohen's kappa on the lines both label (with `split`: only the first file's lines of that split)."""
    keys = [key for key in first.intents if split is None or first.splits.get(key) == split]
    common = [key for key in keys if key in second.intents]
    pairs = [(first.intents[key], second.intents[key]) for key in common]
    agreed = sum(a == b for a, b in pairs)
    total = len(pairs)
    kappa = 0.0
    if total:
        observed = agreed / total
        by_first, by_second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
        chance = sum(by_first[label] * by_second[label] for label in by_first) / (total * total)
        kappa = (observed - chance) / (1 - chance) if chance < 1 else 1.0
    mismatches = Counter((a, b) for a, b in pairs if a != b)
    return Agreement(
        total=total, agreed=agreed, kappa=kappa,
        only_first=len(keys) - total,
        only_second=sum(1 for key in second.intents if key not in first.intents),
        disagreements=tuple((a, b, n) for (a, b), n in sorted(mismatches.items(), key=lambda item: (-item[1], item[0]))),
    )
