"""Regression between two versions of flows/phrasings/rules: which findings and scores changed.

Both sides assess the same transcripts; transcripts are matched by position (ids may repeat across
files). A finding is identified by (rule, turn, evidence text): the message or points may change with
the configuration without the finding being "new".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.qa.model import Assessment, Finding

FindingKey = tuple[str, int, str]


def key_of(finding: Finding) -> FindingKey:
    return (finding.rule, finding.turn, finding.evidence.text)


@dataclass(frozen=True, slots=True)
class Change:
    id: str
    base_score: float | None
    new_score: float | None
    added: tuple[Finding, ...]
    removed: tuple[Finding, ...]

    @property
    def delta(self) -> float | None:
        if self.base_score is None or self.new_score is None:
            return None
        return round(self.new_score - self.base_score, 1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "base_score": self.base_score,
            "score": self.new_score,
            "delta": self.delta,
            "added": [_brief(f) for f in self.added],
            "removed": [_brief(f) for f in self.removed],
        }


@dataclass(frozen=True, slots=True)
class Comparison:
    transcripts: int
    changes: tuple[Change, ...]  # only transcripts whose score or findings changed
    base_mean: float | None
    new_mean: float | None
    rule_deltas: dict[str, tuple[int, int]]  # rule → (findings in base, findings in new), changed rules only
    versions: tuple[dict[str, str], dict[str, str]]

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "transcripts": self.transcripts,
            "changed": len(self.changes),
            "base": {"mean_score": self.base_mean, "versions": self.versions[0]},
            "new": {"mean_score": self.new_mean, "versions": self.versions[1]},
            "rules": {rule: {"base": b, "new": n} for rule, (b, n) in self.rule_deltas.items()},
            "changes": [c.to_dict() for c in self.changes],
        }


def compare(base: Sequence[Assessment], new: Sequence[Assessment]) -> Comparison:
    if len(base) != len(new):
        raise ValueError(f"both sides must assess the same transcripts ({len(base)} vs {len(new)})")
    changes = []
    counts: dict[str, list[int]] = {}
    for old, current in zip(base, new, strict=True):
        for side, item in ((0, old), (1, current)):
            for finding in item.findings:
                counts.setdefault(finding.rule, [0, 0])[side] += 1
        old_keys = {key_of(f): f for f in old.findings}
        new_keys = {key_of(f): f for f in current.findings}
        added = tuple(f for k, f in new_keys.items() if k not in old_keys)
        removed = tuple(f for k, f in old_keys.items() if k not in new_keys)
        if added or removed or old.score != current.score:
            changes.append(Change(current.id, old.score, current.score, added, removed))
    return Comparison(
        transcripts=len(new),
        changes=tuple(changes),
        base_mean=_mean(base),
        new_mean=_mean(new),
        rule_deltas={rule: (b, n) for rule, (b, n) in sorted(counts.items()) if b != n},
        versions=(dict(base[0].versions) if base else {}, dict(new[0].versions) if new else {}),
    )


def render_text(comparison: Comparison) -> str:
    """A plain-text table: summary, per-rule counts, then each changed transcript."""
    lines = [
        (
            f"{comparison.transcripts} transcripts, {len(comparison.changes)} changed; "
            f"mean score {_fmt(comparison.base_mean)} → {_fmt(comparison.new_mean)}"
        ),
    ]
    if comparison.rule_deltas:
        lines.append("")
        lines.append(f"{'rule':<22}{'base':>6}{'new':>6}")
        for rule, (b, n) in comparison.rule_deltas.items():
            lines.append(f"{rule:<22}{b:>6}{n:>6}")
    if comparison.changes:
        lines.append("")
        lines.append(f"{'id':<36}{'base':>7}{'new':>7}{'Δ':>7}  findings")
        for change in comparison.changes:
            delta = "" if change.delta is None else f"{change.delta:+g}"
            marks = [f"+{f.rule}@{f.turn}" for f in change.added] + [f"-{f.rule}@{f.turn}" for f in change.removed]
            lines.append(
                f"{change.id[:35]:<36}{_fmt(change.base_score):>7}{_fmt(change.new_score):>7}{delta:>7}  {' '.join(marks)}"
            )
    return "\n".join(lines) + "\n"


def _brief(finding: Finding) -> dict[str, Any]:
    return {"rule": finding.rule, "turn": finding.turn, "evidence": finding.evidence.text, "points": finding.points}


def _mean(items: Sequence[Assessment]) -> float | None:
    scores = [a.score for a in items if a.score is not None]
    return round(sum(scores) / len(scores), 1) if scores else None


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"
