"""Scores: weights add up, a rule's deduction can be capped, a fatal finding caps the score; batch aggregates."""

from __future__ import annotations

from collections.abc import Callable

from app.engine.step import Engine
from app.qa.assessor import Assessor
from app.qa.model import Assessment, Evidence, Finding
from app.qa.rulebook import RuleBook
from app.qa.rules import parse_rules
from app.qa.scoring import score, summarize
from tests.qa.conftest import agent, customer, transcript

RULES = """\
scoring:
  start: 100
  fatal_score: 20
rules:
  greeting.missing:
    weight: 10
    greeting_cues: ["您好"]
  forbidden.phrase:
    weight: 8
    severity_weights: {minor: 3, major: 8, critical: 20}
    fatal_severities: [critical]
    max_deduction: 12
    allow_contexts: ["不行的话"]
"""


def finding(rule: str, severity: str = "major", points: float = 0.0, fatal: bool = False, turn: int = 1) -> Finding:
    return Finding(rule, turn, severity, "", Evidence(""), points=points, fatal=fatal)


def test_each_finding_deducts_its_points_from_the_start() -> None:
    book = parse_rules(RULES)
    assert score([], book) == (100.0, False)
    assert score([finding("greeting.missing", points=10)], book) == (90.0, False)


def test_points_follow_the_rules_weight_and_severity_weights() -> None:
    book = parse_rules(RULES)
    assert book.rules["greeting.missing"].points("major") == 10
    forbidden = book.rules["forbidden.phrase"]
    assert (forbidden.points("minor"), forbidden.points("major"), forbidden.points("critical")) == (3, 8, 20)
    assert forbidden.is_fatal("critical") and not forbidden.is_fatal("major")


def test_max_deduction_caps_one_rule_per_transcript() -> None:
    book = parse_rules(RULES)
    findings = [finding("forbidden.phrase", points=8) for _ in range(3)] + [finding("greeting.missing", points=10)]
    assert score(findings, book) == (100 - 12 - 10, False)


def test_a_fatal_finding_caps_the_score_at_fatal_score() -> None:
    book = parse_rules(RULES)
    assert score([finding("forbidden.phrase", "critical", points=8, fatal=True)], book) == (20.0, True)
    assert score([finding("forbidden.phrase", "critical", points=8, fatal=True)], parse_rules(RULES.replace("fatal_score: 20", "fatal_score: 0"))) == (0.0, True)


def test_the_score_never_goes_below_zero() -> None:
    book = parse_rules(RULES.replace("max_deduction: 12", "max_deduction: 500"))
    assert score([finding("forbidden.phrase", points=8) for _ in range(20)], book) == (0.0, False)


def test_rule_weights_change_the_assessed_score(
    assessor: Assessor, engine: Engine, rules_with: Callable[[str, str], RuleBook]
) -> None:
    missing_greeting = transcript(customer("我的快递到哪了"), agent("您的快递已经到站点了"))
    heavier = rules_with("  greeting.missing:\n    enabled: true\n    weight: 10", "  greeting.missing:\n    enabled: true\n    weight: 30")
    before, after = assessor.assess(missing_greeting).score, Assessor(engine, heavier).assess(missing_greeting).score
    assert before is not None and after is not None and before - after == 20


def _assessment(id: str, agent_name: str | None, channel: str, score_: float | None, rules: list[str], fatal: bool = False) -> Assessment:
    return Assessment(
        id, channel, agent_name, "default", score_, tuple(finding(r, points=5) for r in rules), fatal=fatal,
        error=None if score_ is not None else "engine_error: boom",
    )


def test_summary_aggregates_by_agent_channel_and_rule() -> None:
    batch = [
        _assessment("a", "alice", "online", 90, ["greeting.missing"]),
        _assessment("b", "alice", "phone", 70, ["greeting.missing", "greeting.missing", "close.no_farewell"]),
        _assessment("c", "bob", "online", 0, ["forbidden.phrase"], fatal=True),
        _assessment("d", None, "online", None, []),
    ]
    summary = summarize(batch, ["greeting.missing", "pii.exposed"])
    agents = {g.key: g for g in summary.by_agent}
    assert set(agents) == {"alice", "bob", "(none)"}
    assert (agents["alice"].transcripts, agents["alice"].mean, agents["alice"].findings) == (2, 80.0, 4)
    assert agents["bob"].fatal == 1 and agents["(none)"].errors == 1 and agents["(none)"].mean is None
    channels = {g.key: g.transcripts for g in summary.by_channel}
    assert channels == {"online": 3, "phone": 1}
    rules = {t.rule: (t.findings, t.transcripts) for t in summary.by_rule}
    assert rules["greeting.missing"] == (3, 2) and rules["pii.exposed"] == (0, 0) and rules["forbidden.phrase"] == (1, 1)
    assert summary.histogram[0] == 1 and summary.histogram[7] == 1 and summary.histogram[9] == 1
    assert summary.overall.transcripts == 4 and summary.overall.mean == round((90 + 70 + 0) / 3, 1)
