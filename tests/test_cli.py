"""The `huashu` command line, run in-process with typer's runner."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from app.config import PROJECT_ROOT

runner = CliRunner()


def test_check_passes_on_the_shipped_content() -> None:
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 0, result.output
    assert "ok:" in result.output


def test_check_fails_with_file_and_line_on_broken_content(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(PROJECT_ROOT / "flows", flows)
    text = (flows / "default.yaml").read_text(encoding="utf-8").replace("goto: invite", "goto: invitation", 1)
    (flows / "default.yaml").write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["check", "--flows", str(flows), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    (defect,) = report["defects"]
    assert defect["kind"] == "unknown-state" and defect["flow"] == "default" and defect["state"] == "listen"
    assert defect["file"].endswith("default.yaml") and isinstance(defect["line"], int)


def test_check_covers_the_qa_rules_and_report_texts_of_the_scripts_folder(tmp_path: Path) -> None:
    scripts = tmp_path / "scripts"
    shutil.copytree(PROJECT_ROOT / "scripts_zh", scripts)
    labels = scripts / "qa_report.yaml"
    labels.write_text(labels.read_text(encoding="utf-8").replace("  title:", "  titel:", 1), encoding="utf-8")
    rules = scripts / "qa_rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8") + "\n  : [unbalanced\n", encoding="utf-8")

    result = runner.invoke(app, ["check", "--scripts", str(scripts), "--json"])

    assert result.exit_code == 1
    defects = json.loads(result.stdout)["defects"]
    assert {Path(d["file"]).name for d in defects} == {"qa_rules.yaml", "qa_report.yaml"}
    assert all(isinstance(d["line"], int) for d in defects)
    assert any("titel" in d["message"] for d in defects)


def test_analyze_writes_one_line_per_input_in_order_and_reports_bad_lines() -> None:
    lines = "\n".join(
        [
            json.dumps({"text": "我的快递到哪了,订单号202611180001"}, ensure_ascii=False),
            "{not json",
            json.dumps({"txt": "wrong field"}),
            json.dumps({"text": "昨天买的手机屏幕碎了,我要退货!", "today": "2026-11-22"}, ensure_ascii=False),
        ]
    )
    result = runner.invoke(app, ["analyze", "-", "--today", "2026-11-22"], input=lines + "\n")
    assert result.exit_code == 1, result.output  # two bad lines
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 4
    first, bad_json, bad_field, last = out
    assert first["intent"] == "order_status" and first["slots"]["order_id"] == "202611180001"
    for key in ("text", "intent", "confidence", "alternatives", "slots", "confirmation", "emotion", "handoff"):
        assert key in first
    assert bad_json["line"] == 2 and "invalid JSON" in bad_json["error"]
    assert bad_field["line"] == 3 and '"text"' in bad_field["error"]
    assert last["slots"]["date"] == "2026-11-21"


def test_phrases_filters_by_stage_and_scenario_as_json() -> None:
    result = runner.invoke(app, ["phrases", "--stage", "answer", "--scenario", "warranty", "--json"])
    assert result.exit_code == 0, result.output
    phrases = json.loads(result.stdout)
    assert phrases and all(p["stage"] == "answer" for p in phrases)
    assert all(not p["scenarios"] or "warranty" in p["scenarios"] for p in phrases)


def test_flows_show_mermaid_and_json() -> None:
    mermaid = runner.invoke(app, ["flows", "show", "default", "--format", "mermaid"])
    assert mermaid.exit_code == 0 and mermaid.stdout.startswith("stateDiagram-v2")
    assert "confirm --> clarify" in mermaid.stdout
    as_json = json.loads(runner.invoke(app, ["flows", "show", "default", "--format", "json"]).stdout)
    assert as_json["flow"] == "default" and {s["name"] for s in as_json["states"]} >= {"greeting", "confirm", "close_check"}


def test_flows_show_unknown_flow_exits_2() -> None:
    result = runner.invoke(app, ["flows", "show", "nope"])
    assert result.exit_code == 2


def test_chat_runs_a_conversation_in_the_terminal() -> None:
    result = runner.invoke(app, ["chat"], input="我的快递到哪了,订单号202611180001\n没有了,谢谢\n")
    assert result.exit_code == 0, result.output
    assert "state → listen" in result.output
    assert "顺丰速运" in result.output  # the demo look-up answered
    assert "intent order_status" in result.output


def test_analyze_never_crashes_on_odd_lines() -> None:
    lines = [
        '{"text": "\\ud800"}',  # valid JSON, not valid text
        '{"text": "昨天买的", "today": "0001-01-01"}',
        '{"text": "明天能到吗", "today": "9999-12-31"}',
        '{"text": "好的", "today": "not a date"}',
        '[1, 2]',
        '{"text": "谢谢"}',
    ]
    result = runner.invoke(app, ["analyze", "-"], input="\n".join(lines) + "\n")
    assert result.exit_code == 1, result.output  # bad lines are answered, and the exit says so
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 6
    assert "Unicode" in out[0]["error"] and out[0]["line"] == 1
    assert "intent" in out[1] and "date" not in out[1]["slots"]  # no day before 0001-01-01
    assert "date" not in out[2]["slots"]  # no day after 9999-12-31
    assert out[3]["line"] == 4 and "error" in out[3]
    assert out[4]["line"] == 5 and "error" in out[4]
    assert out[5]["intent"] == "thanks_bye"


def test_analyze_rejects_a_bad_today_option() -> None:
    result = runner.invoke(app, ["analyze", "-", "--today", "yesterday"], input="")
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output


# ---------------------------------------------------------------- packs


@pytest.fixture
def pack_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the default pack; HUASHU_PACK (which `--pack` sets) is restored after the test."""
    monkeypatch.setenv("HUASHU_PACK", "")
    shutil.copytree(PROJECT_ROOT / "flows", tmp_path / "flows")
    shutil.copytree(PROJECT_ROOT / "scripts_zh", tmp_path / "scripts_zh")
    return tmp_path


@pytest.mark.parametrize("where", ["before", "after"])
def test_pack_option_is_accepted_before_or_after_the_command(pack_copy: Path, where: str) -> None:
    intents = pack_copy / "scripts_zh" / "nlu" / "intents" / "core.yaml"
    intents.write_text(intents.read_text(encoding="utf-8").replace("- intent: handoff", "- intent: transfer"), encoding="utf-8")
    args = ["--pack", str(pack_copy), "check"] if where == "before" else ["check", f"--pack={pack_copy}"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "core intent" in result.output and "handoff" in result.output


def test_pack_option_naming_a_missing_folder_is_a_configuration_error(pack_copy: Path) -> None:
    result = runner.invoke(app, ["check", "--pack", str(pack_copy / "nope")])
    assert result.exit_code == 2
    assert "HUASHU_PACK" in result.output and "nope" in result.output


def test_huashu_pack_stands_for_both_folders_and_explicit_folders_win(pack_copy: Path) -> None:
    from app.config import Settings

    settings = Settings(pack=pack_copy)
    assert (settings.flows_dir, settings.scripts_dir) == (pack_copy / "flows", pack_copy / "scripts_zh")
    explicit = Settings(pack=pack_copy, flows_dir=PROJECT_ROOT / "flows")
    assert (explicit.flows_dir, explicit.scripts_dir) == (PROJECT_ROOT / "flows", pack_copy / "scripts_zh")


def test_check_warns_about_thin_and_doubly_listed_intents_but_passes(pack_copy: Path) -> None:
    extra = pack_copy / "scripts_zh" / "nlu" / "intents" / "zz_extra.yaml"
    extra.write_text("- intent: gift_card\n  description: 礼品卡\n  examples: [礼品卡余额, 我要退货]\n", encoding="utf-8")
    result = runner.invoke(app, ["check", "--pack", str(pack_copy), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True
    messages = [w["message"] for w in report["warnings"]]
    assert any("'gift_card' has 2 example(s)" in m for m in messages)
    assert any("'我要退货'" in m and "'return_refund'" in m and "'gift_card'" in m for m in messages)
    assert all(w["kind"] == "warning" and w["file"].endswith("zz_extra.yaml") for w in report["warnings"])


def test_check_reports_a_missing_qa_rules_file_instead_of_crashing(pack_copy: Path) -> None:
    (pack_copy / "scripts_zh" / "qa_rules.yaml").unlink()
    result = runner.invoke(app, ["check", "--pack", str(pack_copy)])
    assert result.exit_code == 1
    assert "qa_rules.yaml" in result.output and "cannot read the file" in result.output
    assert "Traceback" not in result.output


# ---------------------------------------------------------------- bad input, as a new user tries it (issue 16)


def test_analyze_takes_the_message_as_an_argument() -> None:
    result = runner.invoke(app, ["analyze", "我要退货"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["intent"] == "return_refund"


def test_analyze_takes_plain_text_lines_and_exits_1_on_a_bad_line() -> None:
    result = runner.invoke(app, ["analyze", "-"], input='我的快递到哪了\n{"text": "谢谢"}\n{broken\n')
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o.get("intent") for o in out[:2]] == ["order_status", "thanks_bye"]
    assert out[2]["line"] == 3 and "invalid JSON" in out[2]["error"]
    assert result.exit_code == 1


def test_analyze_of_a_missing_file_says_so() -> None:
    result = runner.invoke(app, ["analyze", "messages.jsonl"])
    assert result.exit_code == 2 and "no such file: messages.jsonl" in result.output


@pytest.mark.parametrize(("option", "value", "valid"), [
    ("--stage", "confirmation", "confirm"), ("--channel", "wechat", "online"), ("--scenario", "refund", "return_refund"),
])
def test_phrases_names_the_valid_values_of_a_wrong_filter(option: str, value: str, valid: str) -> None:
    result = runner.invoke(app, ["phrases", option, value])
    assert result.exit_code == 2
    assert f"unknown {option} {value!r}" in result.output and valid in result.output


def test_the_phrasings_table_cuts_nothing_at_80_columns() -> None:
    result = runner.invoke(app, ["phrases", "--stage", "confirm"], env={"COLUMNS": "80"})
    assert result.exit_code == 0 and "…" not in result.output
    folded = "".join(line.split("│")[5].strip() for line in result.output.splitlines() if line.count("│") == 6)
    assert "您的意思是{issue},对吗?" in folded  # the whole text, folded over lines


def test_chat_keeps_the_reply_on_the_bot_line_and_shows_placeholders_as_text() -> None:
    result = runner.invoke(app, ["chat"], input="我的订单[订单x]到哪了\n", env={"COLUMNS": "60"})
    bot_lines = [line for line in result.output.splitlines() if line.startswith("bot (")]
    assert bot_lines and all(line.split("): ", 1)[1] for line in bot_lines)  # text after the colon, same line
    assert "[订单x]" in result.output
