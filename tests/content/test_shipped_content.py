"""The shipped flows/ and scripts_zh/ load cleanly and cover what the engine promises."""

from __future__ import annotations

from pathlib import Path

from app.config import PROJECT_ROOT
from app.content.loader import collect_content, load_intents
from app.content.model import CHANNELS, STAGES
from app.nlu.analyzer import DEFAULT_SCRIPTS_DIR

FLOWS, SCRIPTS = PROJECT_ROOT / "flows", PROJECT_ROOT / "scripts_zh"


def test_every_shipped_flow_and_phrasing_file_loads_without_defects() -> None:
    content, defects = collect_content(FLOWS, SCRIPTS)
    assert defects == []
    assert set(content.flows) == {p.stem for p in FLOWS.glob("*.yaml")}
    files = {Path(p.file).name for p in content.phrases.values()}
    assert files == {p.name for p in (SCRIPTS / "phrases").glob("*.yaml")}


def test_there_are_at_least_150_phrasings_with_every_stage_and_channel_covered() -> None:
    content, _ = collect_content(FLOWS, SCRIPTS)
    assert len(content.phrases) >= 150
    for stage in STAGES:
        for channel in CHANNELS:
            assert any(p.stage == stage and channel in p.channels and p.generic for p in content.phrases.values()), (stage, channel)


def test_every_content_scenario_has_answers_that_need_no_slots() -> None:
    content, _ = collect_content(FLOWS, SCRIPTS)
    declared = set().union(*(flow.slots for flow in content.flows.values()))
    for intent in set(load_intents(DEFAULT_SCRIPTS_DIR)) - {"greeting", "handoff", "thanks_bye", "other"}:
        answers = [p for p in content.phrases.values() if p.stage == "answer" and intent in p.scenarios]
        assert len(answers) >= 6, intent
        assert any(not (p.placeholders & declared) for p in answers), intent


def test_forbidden_wording_has_constructive_replacements_and_no_phrasing_uses_it() -> None:
    content, _ = collect_content(FLOWS, SCRIPTS)
    assert len(content.forbidden) >= 20
    for entry in content.forbidden:
        assert entry.replacement and not entry.pattern.search(entry.replacement), entry.id
        for phrase in content.phrases.values():
            for template in phrase.templates:
                assert not entry.pattern.search(template.source), (entry.id, phrase.id)


def test_default_flow_covers_every_scenario_intent() -> None:
    content, _ = collect_content(FLOWS, SCRIPTS)
    flow = content.flows["default"]
    named = set().union(*((route.when.intents or set()) for spec in flow.states.values() for route in flow.routes_for(spec.name)))
    # Scenarios without a route of their own take the catch-all to `answer`, which picks by topic.
    assert {"greeting", "complaint", "return_refund", "repair", "order_status", "thanks_bye", "other"} <= named


def test_docs_show_the_current_default_flow_diagram() -> None:
    from app.content.diagram import to_mermaid

    content, _ = collect_content(FLOWS, SCRIPTS)
    docs = (PROJECT_ROOT / "docs" / "flows.md").read_text(encoding="utf-8")
    assert "```mermaid\n" + to_mermaid(content.flows["default"]) + "```" in docs, "regenerate with `huashu flows show default`"
