"""Scores: one transcript's 0–100 from its findings, and batch aggregates by agent, channel and rule.

score = clamp(start − Σ_rules min(Σ points of the rule's findings, max_deduction), 0, 100);
any fatal finding caps the score at `scoring.fatal_score` (0 by default: the transcript fails).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from app.aftercare.records import Rating, summarise_ratings
from app.qa.model import Assessment, Finding
from app.qa.rulebook import RuleBook

MAX_SCORE: Final = 100.0
NO_AGENT: Final = "(none)"
HISTOGRAM_BINS: Final = tuple(range(0, 100, 10))  # [0,10) … [90,100]


def score(findings: Iterable[Finding], rulebook: RuleBook) -> tuple[float, bool]:
    """The transcript's score and whether a fatal finding capped it."""
    per_rule: dict[str, float] = {}
    fatal = False
    for finding in findings:
        per_rule[finding.rule] = per_rule.get(finding.rule, 0.0) + finding.points
        fatal = fatal or finding.fatal
    deduction = 0.0
    for rule_id, points in per_rule.items():
        cap = rulebook.rules[rule_id].max_deduction if rule_id in rulebook.rules else None
        deduction += points if cap is None else min(points, cap)
    value = min(MAX_SCORE, max(0.0, rulebook.scoring.start - deduction))
    if fatal:
        value = min(value, rulebook.scoring.fatal_score)
    return round(value, 1), fatal


@dataclass(frozen=True, slots=True)
class Group:
    """Scores of the transcripts sharing a key (an agent, a channel)."""

    key: str
    transcripts: int
    mean: float | None
    median: float | None
    minimum: float | None
    findings: int
    fatal: int
    errors: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "transcripts": self.transcripts,
            "mean_score": self.mean,
            "median_score": self.median,
            "min_score": self.minimum,
            "findings": self.findings,
            "fatal": self.fatal,
            "errors": self.errors,
        }


@dataclass(frozen=True, slots=True)
class RuleTally:
    rule: str
    findings: int
    transcripts: int  # transcripts with at least one finding of the rule
    points: float

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "findings": self.findings, "transcripts": self.transcripts, "points": self.points}


@dataclass(frozen=True, slots=True)
class Summary:
    overall: Group
    by_agent: tuple[Group, ...]
    by_channel: tuple[Group, ...]
    by_rule: tuple[RuleTally, ...]
    histogram: tuple[int, ...] = field(default=())  # transcripts per score bin (HISTOGRAM_BINS)
    # The customers' satisfaction ratings the transcripts carry (`summarise_ratings`), None when none is rated.
    ratings: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall.to_dict(),
            "by_agent": [g.to_dict() for g in self.by_agent],
            "by_channel": [g.to_dict() for g in self.by_channel],
            "by_rule": [r.to_dict() for r in self.by_rule],
            "histogram": {"bins": list(HISTOGRAM_BINS), "counts": list(self.histogram)},
            "ratings": self.ratings,
        }


def summarize(assessments: Sequence[Assessment], rule_order: Sequence[str] = ()) -> Summary:
    """Aggregates of a batch; `rule_order` lists rules to show even when they found nothing."""
    by_agent: dict[str, list[Assessment]] = {}
    by_channel: dict[str, list[Assessment]] = {}
    for item in assessments:
        by_agent.setdefault(item.agent or NO_AGENT, []).append(item)
        by_channel.setdefault(item.channel, []).append(item)
    tallies: dict[str, list[Any]] = {rule: [0, 0, 0.0] for rule in rule_order}
    for item in assessments:
        seen: set[str] = set()
        for finding in item.findings:
            tally = tallies.setdefault(finding.rule, [0, 0, 0.0])
            tally[0] += 1
            tally[2] += finding.points
            if finding.rule not in seen:
                tally[1] += 1
                seen.add(finding.rule)
    histogram = [0] * len(HISTOGRAM_BINS)
    for item in assessments:
        if item.score is not None:
            histogram[min(int(item.score // 10), len(HISTOGRAM_BINS) - 1)] += 1
    return Summary(
        overall=_group("all", assessments),
        by_agent=tuple(_group(key, items) for key, items in sorted(by_agent.items())),
        by_channel=tuple(_group(key, items) for key, items in sorted(by_channel.items())),
        by_rule=tuple(RuleTally(rule, n, t, round(p, 1)) for rule, (n, t, p) in tallies.items()),
        histogram=tuple(histogram),
        ratings=_ratings(assessments),
    )


def _ratings(assessments: Sequence[Assessment]) -> dict[str, Any] | None:
    """Ratings by agent, flow, intent, channel and day (the date of the rating's time as written: UTC in exports)."""
    rated = [
        Rating(item.id, int(item.rating["score"]), str(item.rating.get("comment", "")),
               datetime.fromisoformat(item.rating["at"]), channel=item.channel, flow=item.flow or "",
               agent=item.agent, intent=str(item.rating.get("intent") or "other"))
        for item in assessments
        if item.rating is not None and isinstance(item.rating.get("at"), str)
    ]
    return summarise_ratings(rated, day_of=lambda at: at.date()) if rated else None


def _group(key: str, items: Sequence[Assessment]) -> Group:
    scores = [item.score for item in items if item.score is not None]
    return Group(
        key=key,
        transcripts=len(items),
        mean=round(statistics.fmean(scores), 1) if scores else None,
        median=round(statistics.median(scores), 1) if scores else None,
        minimum=min(scores) if scores else None,
        findings=sum(len(item.findings) for item in items),
        fatal=sum(1 for item in items if item.fatal),
        errors=sum(1 for item in items if item.error is not None),
    )
