"""The rules file: validated at load time, every defect naming file, line and rule; settings take effect."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from app.content.errors import ContentErrors
from app.engine.step import Engine
from app.qa.assessor import Assessor
from app.qa.rulebook import QaRuleError, RuleBook
from app.qa.rules import RULES, SPECS, load_rules, parse_rules
from tests.qa.conftest import Check, agent, customer, transcript

EditRules = Callable[[str, str], RuleBook]

MINIMAL = """\
rules:
  greeting.missing:
    weight: 10
    greeting_cues: ["您好"]
"""


def defects_of(text: str) -> list[QaRuleError]:
    with pytest.raises(ContentErrors) as caught:
        parse_rules(text, "rules.yaml")
    return [d for d in caught.value.defects if isinstance(d, QaRuleError)]


def test_the_shipped_rules_configure_every_rule_with_a_seed_source(rulebook: RuleBook) -> None:
    assert set(rulebook.rules) == set(RULES)
    for rule in rulebook.rules.values():
        assert rule.enabled, rule.id
        assert rule.source and rule.message, rule.id


def test_a_rules_file_that_is_not_utf8_is_a_defect_naming_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "qa_rules.yaml"
    path.write_bytes(MINIMAL.replace("您好", "你好").encode("gbk"))  # saved by an editor set to GBK
    with pytest.raises(ContentErrors) as caught:
        load_rules(path)
    (defect,) = caught.value.defects
    assert isinstance(defect, QaRuleError)
    assert (defect.file, defect.line) == (str(path), 4) and "not UTF-8" in defect.message
    assert defect.hint is not None and "UTF-8" in defect.hint


def test_a_rule_missing_from_the_file_is_disabled() -> None:
    book = parse_rules(MINIMAL)
    assert [r.id for r in book.enabled] == ["greeting.missing"]
    assert not book.rules["pii.exposed"].enabled


def test_unknown_rule_is_reported_with_its_line() -> None:
    (defect,) = defects_of(MINIMAL + "  greeting.mising:\n    weight: 1\n")
    assert "unknown rule 'greeting.mising'" in defect.message
    assert defect.file == "rules.yaml" and defect.line == 5


def test_unknown_key_and_bad_values_are_all_reported_together() -> None:
    text = """\
rules:
  greeting.missing:
    weight: heavy
    severity: fatal
    colour: red
    greeting_cues: ["您好"]
"""
    messages = [d.message for d in defects_of(text)]
    assert any("unknown key 'colour'" in m for m in messages)
    assert any("weight must be a number" in m for m in messages)
    assert any("`severity` must be one of" in m for m in messages)


def test_invalid_regular_expression_in_cues_is_reported_with_its_line() -> None:
    (defect,) = defects_of(MINIMAL.replace('["您好"]', '["您好("]'))
    assert "invalid regular expression" in defect.message and defect.line == 4
    assert defect.hint is not None and "escape" in defect.hint


def test_a_required_cue_list_must_be_given() -> None:
    (defect,) = defects_of("rules:\n  greeting.missing:\n    weight: 10\n")
    assert "missing parameter `greeting_cues`" in defect.message


def test_intent_names_are_checked_against_the_packs_intents(engine: Engine) -> None:
    text = "rules:\n  apology.missing:\n    trigger_intents: [complain]\n    apology_cues: [抱歉]\n    not_solution_cues: [请问]\n"
    (defect,) = parse_rules(text).unknown_intents(engine.content, SPECS)
    assert "unknown intents ['complain']" in defect.message and defect.line == 3


def test_recommended_phrase_ids_must_exist(engine: Engine) -> None:
    book = parse_rules(MINIMAL.replace("weight: 10", "weight: 10\n    recommend: {stage: greeting, phrases: [greeting.nope]}"))
    (defect,) = book.unknown_phrases(engine.content)
    assert "greeting.nope" in defect.message


def test_a_disabled_rule_reports_nothing(rules_with: EditRules, engine: Engine, check: Check) -> None:
    turns = (customer("我的快递到哪了"), agent("您的快递已经到站点了"))
    assert check("greeting.missing", *turns)
    book = rules_with("  greeting.missing:\n    enabled: true", "  greeting.missing:\n    enabled: false")
    result = Assessor(engine, book).assess(transcript(*turns))
    assert [f for f in result.findings if f.rule == "greeting.missing"] == []


def test_cue_words_come_from_the_file(rules_with: EditRules, engine: Engine) -> None:
    book = rules_with('"您好|你好|您早|早上好|下午好|晚上好|欢迎|尊敬的"', '"您好|你好|您早|早上好|下午好|晚上好|欢迎|尊敬的|在的"')
    result = Assessor(engine, book).assess(transcript(customer("我的快递到哪了"), agent("亲,在的")))
    assert [f for f in result.findings if f.rule == "greeting.missing"] == []

