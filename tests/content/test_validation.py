"""Each content defect is reported with file, line, flow and state, from inline YAML."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from app.content.errors import (
    ContentDefect,
    DeadEndState,
    DuplicateId,
    MissingPhrasing,
    SchemaError,
    UnknownPhraseId,
    UnknownPlaceholder,
    UnknownStateError,
    UnreachableState,
    YamlSyntaxError,
)
from app.content.loader import collect_content

GOOD_FLOW = """\
flow: mini
version: "1"
channels: [online]
slots: [order_id]
initial: hello
states:
  hello:
    stage: greeting
    then: listen
  listen:
    stage: listen
    say: false
    on:
      - when: {intent: thanks_bye}
        goto: bye
      - goto: answer
  answer:
    stage: answer
    then: bye
  bye:
    stage: farewell
    then: done
  done:
    stage: farewell
    final: true
"""

GOOD_PHRASES = """\
phrases:
  - id: greeting.hello
    stage: greeting
    channels: [online]
    text: "您好,我是{agent_name}。"
  - id: answer.hours
    stage: answer
    channels: [online]
    text: "我们的服务时间是{service_hours}。"
  - id: farewell.bye
    stage: farewell
    channels: [online]
    text: "感谢您的咨询,再见!"
"""

FACTS = "facts:\n  service_hours: 9:00-18:00\n"

INTENTS = "".join(
    f"- intent: {name}\n  description: {name}\n  examples: [{name}例句]\n"
    for name in ("greeting", "complaint", "handoff", "thanks_bye", "other", "policy")
)


def write_content(
    tmp_path: Path, flow: str = GOOD_FLOW, phrases: str = GOOD_PHRASES, facts: str = FACTS, extra_flows: dict[str, str] | None = None
) -> tuple[Path, Path]:
    flows_dir, scripts_dir = tmp_path / "flows", tmp_path / "scripts_zh"
    (scripts_dir / "phrases").mkdir(parents=True)
    flows_dir.mkdir()
    (flows_dir / "mini.yaml").write_text(flow, encoding="utf-8")
    for name, text in (extra_flows or {}).items():
        (flows_dir / name).write_text(text, encoding="utf-8")
    (scripts_dir / "phrases" / "main.yaml").write_text(phrases, encoding="utf-8")
    (scripts_dir / "facts.yaml").write_text(facts, encoding="utf-8")
    (scripts_dir / "forbidden.yaml").write_text(
        "forbidden:\n  - {id: forbidden.buxing, phrase: 不行, replacement: 我来帮您想办法}\n", encoding="utf-8"
    )
    (scripts_dir / "stage_cues.yaml").write_text("stage_cues:\n  greeting: [您好]\n", encoding="utf-8")
    (scripts_dir / "restate.yaml").write_text("restate:\n  pronouns: {我: 您}\n", encoding="utf-8")
    (scripts_dir / "nlu" / "intents").mkdir(parents=True)
    (scripts_dir / "nlu" / "intents" / "core.yaml").write_text(INTENTS, encoding="utf-8")
    return flows_dir, scripts_dir


Check = Callable[..., list[ContentDefect]]


@pytest.fixture
def check(tmp_path: Path) -> Check:
    def run(**kwargs: object) -> list[ContentDefect]:
        _, defects = collect_content(*write_content(tmp_path, **kwargs))  # type: ignore[arg-type]
        return defects

    return run


def only(defects: list[ContentDefect], kind: type[ContentDefect]) -> ContentDefect:
    matching = [d for d in defects if isinstance(d, kind)]
    assert len(matching) == 1, [d.describe() for d in defects]
    return matching[0]


def test_good_content_has_no_defects(check: Check) -> None:
    assert check() == []


def test_validation_fails_on_yaml_syntax_error_with_line(check: Check) -> None:
    broken = GOOD_FLOW.replace("  listen:\n", "  listen:\n   - bad: [\n", 1)
    defect = only(check(flow=broken), YamlSyntaxError)
    assert defect.file is not None and defect.file.endswith("mini.yaml")
    assert defect.line is not None and defect.line >= 11


def test_validation_fails_on_unknown_state(check: Check) -> None:
    defect = only(check(flow=GOOD_FLOW.replace("goto: answer", "goto: anwser")), UnknownStateError)
    assert (defect.flow, defect.state) == ("mini", "listen")
    assert "anwser" in defect.message and "answer" in (defect.hint or "")
    assert defect.line == 16


def test_validation_fails_on_unknown_phrase_id(check: Check) -> None:
    flow = GOOD_FLOW.replace("    stage: answer\n", "    stage: answer\n    phrases: [answer.nope]\n")
    defect = only(check(flow=flow), UnknownPhraseId)
    assert (defect.flow, defect.state) == ("mini", "answer")
    assert "answer.nope" in defect.message


def test_validation_fails_on_unreachable_state(check: Check) -> None:
    flow = GOOD_FLOW + "  orphan:\n    stage: answer\n    then: bye\n"
    defect = only(check(flow=flow), UnreachableState)
    assert (defect.flow, defect.state, defect.line) == ("mini", "orphan", 26)


def test_validation_fails_on_state_that_cannot_reach_the_end(check: Check) -> None:
    flow = GOOD_FLOW.replace("      - goto: answer\n", "      - goto: loop\n") + (
        "  loop:\n    stage: listen\n    say: false\n    on:\n      - goto: loop\n"
    )
    defects = check(flow=flow)
    dead = [d for d in defects if isinstance(d, DeadEndState)]
    assert {d.state for d in dead} == {"loop"}


def test_validation_fails_on_placeholder_that_is_neither_slot_nor_fact(check: Check) -> None:
    phrases = GOOD_PHRASES.replace("{service_hours}", "{opening_hours}")
    defect = only(check(phrases=phrases), UnknownPlaceholder)
    assert "opening_hours" in defect.message and "answer.hours" in defect.message
    assert defect.line == 6


def test_declared_slots_and_facts_are_accepted_placeholders(check: Check) -> None:
    phrases = GOOD_PHRASES.replace("{service_hours}", "{service_hours},订单{order_id}")
    assert check(phrases=phrases) == []


def test_validation_fails_on_duplicate_phrase_id(check: Check) -> None:
    phrases = GOOD_PHRASES + '  - id: answer.hours\n    stage: answer\n    text: "重复"\n'
    defect = only(check(phrases=phrases), DuplicateId)
    assert "answer.hours" in defect.message and defect.line == 14


def test_validation_fails_on_duplicate_state_name(check: Check) -> None:
    flow = GOOD_FLOW + "  answer:\n    stage: answer\n    then: bye\n"
    defect = only(check(flow=flow), DuplicateId)
    assert "answer" in defect.message and defect.flow == "mini" and defect.line == 26


def test_validation_fails_on_duplicate_flow_name(check: Check) -> None:
    defect = only(check(extra_flows={"copy.yaml": GOOD_FLOW}), DuplicateId)
    assert defect.flow == "mini"


def test_validation_fails_on_stage_without_phrasing_for_a_served_channel(check: Check) -> None:
    defects = check(flow=GOOD_FLOW.replace("channels: [online]", "channels: [online, phone]"))
    assert all(isinstance(d, MissingPhrasing) for d in defects)
    assert {(d.flow, d.state) for d in defects} == {("mini", "hello"), ("mini", "answer"), ("mini", "bye")}
    assert all("'phone'" in d.message for d in defects)


def test_validation_fails_on_unknown_stage(check: Check) -> None:
    defect = only(check(flow=GOOD_FLOW.replace("stage: answer", "stage: answering")), SchemaError)
    assert defect.state == "answer" and "answering" in defect.message


def test_validation_fails_on_unknown_intent_in_condition(check: Check) -> None:
    defect = only(check(flow=GOOD_FLOW.replace("intent: thanks_bye", "intent: thanks")), SchemaError)
    assert defect.state == "listen" and "thanks" in defect.message


def test_validation_fails_on_waiting_state_without_catch_all(check: Check) -> None:
    defect = only(check(flow=GOOD_FLOW.replace("      - goto: answer\n", "")), SchemaError)
    assert defect.state == "listen" and "catch-all" in defect.message


def test_validation_fails_on_variant_with_different_placeholders(check: Check) -> None:
    phrases = GOOD_PHRASES.replace(
        '    text: "您好,我是{agent_name}。"\n', '    text: "您好,我是{agent_name}。"\n    variants: ["您好!"]\n'
    )
    defect = only(check(phrases=phrases), SchemaError)
    assert "variant" in defect.message and "greeting.hello" in defect.message


def test_defect_description_says_what_where_and_how_to_fix(check: Check) -> None:
    defect = only(check(flow=GOOD_FLOW.replace("goto: answer", "goto: anwser")), UnknownStateError)
    text = defect.describe()
    assert "mini.yaml:16" in text and "flow 'mini'" in text and "state 'listen'" in text and "states are" in text


def test_restatement_speaks_back_from_the_agents_point_of_view() -> None:
    from app.content.model import Restatement

    restate = Restatement.build(("不对", "不是"), {"我": "您", "你们": "我们", "我的": "您的"}, 20)
    assert restate.restate("不对,不是,我的订单你们还没发货!") == "您的订单我们还没发货"
    assert len(restate.restate("我" * 50)) == 20


def test_validation_fails_on_an_empty_flow_file(check: Check) -> None:
    defect = only(check(flow=""), SchemaError)
    assert defect.file is not None and defect.file.endswith("mini.yaml") and "flow:" in defect.message


def test_a_file_that_is_not_utf8_is_a_defect_not_a_crash(tmp_path: Path) -> None:
    flows_dir, scripts_dir = write_content(tmp_path)
    (scripts_dir / "facts.yaml").write_bytes("facts:\n  hotline: 400\n".encode("utf-16"))
    _, defects = collect_content(flows_dir, scripts_dir)
    defect = only(defects, YamlSyntaxError)
    assert defect.file is not None and defect.file.endswith("facts.yaml") and "UTF-8" in defect.message


def test_engine_refuses_a_missing_default_flow_instead_of_serving_another(tmp_path: Path) -> None:
    from app.content.loader import load_content
    from app.engine.step import Engine
    from app.errors import EngineError
    from app.nlu.analyzer import get_analyzer

    content = load_content(*write_content(tmp_path))
    with pytest.raises(EngineError, match="default flow 'default' is not loaded; flows are: mini"):
        Engine(content, get_analyzer())
    assert Engine(content, get_analyzer(), default_flow="mini").default_flow == "mini"


# ---------------------------------------------------------------- pack intents, topics and counters


def _intents_file(tmp_path: Path) -> Path:
    return tmp_path / "scripts_zh" / "nlu" / "intents" / "core.yaml"


def test_validation_fails_on_an_intent_no_file_declares(check: Check) -> None:
    defect = only(check(flow=GOOD_FLOW.replace("intent: thanks_bye", "intent: refund_time")), SchemaError)
    assert "refund_time" in defect.message and defect.state == "listen" and defect.line is not None


def test_validation_fails_on_a_pack_lacking_a_core_intent(tmp_path: Path) -> None:
    flows_dir, scripts_dir = write_content(tmp_path)
    _intents_file(tmp_path).write_text(INTENTS.replace("- intent: handoff", "- intent: transfer"), encoding="utf-8")
    _, defects = collect_content(flows_dir, scripts_dir)
    defect = only(defects, SchemaError)
    assert "handoff" in defect.message and "core" in defect.message


def test_validation_fails_on_an_intent_declared_twice_naming_both_places(tmp_path: Path) -> None:
    flows_dir, scripts_dir = write_content(tmp_path)
    (scripts_dir / "nlu" / "intents" / "more.yaml").write_text(
        "- intent: policy\n  description: again\n  examples: [又一个]\n", encoding="utf-8"
    )
    defect = only(collect_content(flows_dir, scripts_dir)[1], DuplicateId)
    assert defect.file is not None and defect.file.endswith("more.yaml") and defect.line == 1
    assert defect.hint is not None and "core.yaml:16" in defect.hint


@pytest.mark.parametrize(("entry", "message"), [
    ("- intent: Policy\n  description: x\n  examples: [a]\n", "lower-case name"),
    ("- intent: refund\n  description: x\n  examples: []\n", "needs `examples`"),
    ("- intent: refund\n  examples: [退款]\n", "needs a `description`"),
    ("- intent: refund\n  description: x\n  examples: [a]\n  example: [b]\n", "unknown key `example`"),
    ("intent: refund\n", "YAML list"),
])
def test_broken_intent_entries_are_reported_with_file_and_line(tmp_path: Path, entry: str, message: str) -> None:
    flows_dir, scripts_dir = write_content(tmp_path)
    (scripts_dir / "nlu" / "intents" / "zz.yaml").write_text(entry, encoding="utf-8")
    defect = only(collect_content(flows_dir, scripts_dir)[1], SchemaError)
    assert message in defect.message and defect.file is not None and defect.file.endswith("zz.yaml")
    assert defect.line == 1


def test_flow_topics_must_be_declared_intents(check: Check) -> None:
    defect = only(check(flow=GOOD_FLOW.replace("initial: hello", "initial: hello\ntopics: [policy, refunds]")), SchemaError)
    assert "refunds" in defect.message and "topics" in defect.message


COUNTING_FLOW = GOOD_FLOW.replace(
    "      - goto: answer\n",
    "      - when: {counter_at_least: {unclear: 2}}\n        goto: bye\n      - goto: answer\n        count: unclear\n",
)


def test_declared_counters_that_are_counted_and_read_pass(check: Check) -> None:
    assert check(flow=COUNTING_FLOW.replace("initial: hello", "initial: hello\ncounters: [unclear]")) == []


def test_validation_fails_on_a_counted_counter_not_declared(check: Check) -> None:
    defects = check(flow=COUNTING_FLOW)
    assert any("undeclared counter 'unclear'" in d.message for d in defects), [d.describe() for d in defects]


def test_validation_fails_on_a_misspelled_counter_that_would_never_fire(check: Check) -> None:
    flow = COUNTING_FLOW.replace("initial: hello", "initial: hello\ncounters: [unclear, uncler]").replace(
        "{unclear: 2}", "{uncler: 2}"
    )
    defect = only(check(flow=flow), SchemaError)
    assert "'uncler'" in defect.message and "never" in defect.message and defect.state == "listen"


def test_engine_counters_need_no_declaration(check: Check) -> None:
    flow = COUNTING_FLOW.replace("initial: hello", "initial: hello\ncounters: [unclear]").replace("{unclear: 2}", "{angry: 2}")
    assert check(flow=flow) == []


def test_assist_also_keeps_its_order_and_needs_known_stages_that_a_state_speaks_in(tmp_path: Path) -> None:
    content, defects = collect_content(*write_content(
        tmp_path, flow=GOOD_FLOW.replace("initial: hello", "initial: hello\nassist_also: [farewell, answer, farewell]")))
    assert defects == [] and content.flows["mini"].assist_also == ("farewell", "answer")


def test_validation_fails_on_an_unknown_assist_also_stage(check: Check) -> None:
    unknown = only(check(flow=GOOD_FLOW.replace("initial: hello", "initial: hello\nassist_also: [answr]")), SchemaError)
    assert "answr" in unknown.message and "assist_also" in unknown.message


def test_validation_fails_on_an_assist_also_stage_no_state_speaks_in(check: Check) -> None:
    stateless = only(check(flow=GOOD_FLOW.replace("initial: hello", "initial: hello\nassist_also: [close-check]")),
                     UnknownStateError)
    assert "close-check" in stateless.message and "no state" in stateless.message

