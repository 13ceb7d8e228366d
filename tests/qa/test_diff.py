"""Regression: the same transcripts under two rule or content versions; what changed, and by how much."""

from __future__ import annotations

from collections.abc import Callable

from app.engine.step import Engine
from app.qa.assessor import Assessor
from app.qa.diff import compare, render_text
from app.qa.rulebook import RuleBook
from tests.qa.conftest import agent, customer, transcript

BATCH = [
    transcript(customer("我的快递到哪了"), agent("亲,这个不行。"), agent("好的"), id="refused"),
    transcript(customer("你好"), agent("您好,我是小李,请问有什么可以帮您?"), id="fine"),
]
FORBIDDEN_WEIGHTS = "    severity_weights: {minor: 3, major: 8, critical: 20}"


def test_identical_versions_change_nothing(assessor: Assessor) -> None:
    results = [assessor.assess(t) for t in BATCH]
    comparison = compare(results, [assessor.assess(t) for t in BATCH])
    assert not comparison.changed
    assert render_text(comparison).startswith("2 transcripts, 0 changed")


def test_a_heavier_weight_shows_as_a_changed_score(
    assessor: Assessor, engine: Engine, rules_with: Callable[[str, str], RuleBook]
) -> None:
    stricter = Assessor(engine, rules_with(FORBIDDEN_WEIGHTS, FORBIDDEN_WEIGHTS.replace("major: 8", "major: 15")))
    comparison = compare([assessor.assess(t) for t in BATCH], [stricter.assess(t) for t in BATCH])
    (change,) = comparison.changes
    assert (change.id, change.delta, change.added, change.removed) == ("refused", -7, (), ())
    assert comparison.versions[0]["rules"] != comparison.versions[1]["rules"]
    assert "refused" in render_text(comparison)


def test_a_disabled_rule_shows_as_removed_findings(
    assessor: Assessor, engine: Engine, rules_with: Callable[[str, str], RuleBook]
) -> None:
    without = Assessor(engine, rules_with("  forbidden.phrase:\n    enabled: true", "  forbidden.phrase:\n    enabled: false"))
    comparison = compare([assessor.assess(t) for t in BATCH], [without.assess(t) for t in BATCH])
    (change,) = comparison.changes
    assert [f.rule for f in change.removed] == ["forbidden.phrase"] and change.delta == 8
    assert comparison.rule_deltas == {"forbidden.phrase": (1, 0)}
    assert "-forbidden.phrase@1" in render_text(comparison)
