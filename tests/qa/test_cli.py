"""`huashu qa replay` and `huashu qa diff`, run in-process with typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from app.config import PROJECT_ROOT

runner = CliRunner()
RULES = PROJECT_ROOT / "scripts_zh" / "qa_rules.yaml"


def line(id: str, *turns: tuple[str, str]) -> str:
    data = {"id": id, "channel": "online", "agent": "alice", "turns": [{"role": r, "text": t} for r, t in turns]}
    return json.dumps(data, ensure_ascii=False)


@pytest.fixture
def batch_file(tmp_path: Path) -> Path:
    path = tmp_path / "batch.jsonl"
    lines = [
        line("t1", ("customer", "我的快递到哪了"), ("agent", "亲,这个不行。")),
        "{broken",
        line("t2", ("customer", "你好"), ("agent", "您好,我是小李,请问有什么可以帮您?")),
        json.dumps({"id": "t3", "turns": [{"role": "robot", "text": "?"}]}),
        line("t4", ("customer", "退货怎么办理?"), ("agent", "您好,我是小李。您可以在我的订单页面提交退货申请。")),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_replay_writes_one_json_object_per_transcript_and_reports_bad_lines(batch_file: Path) -> None:
    result = runner.invoke(app, ["qa", "replay", str(batch_file)])
    assert result.exit_code == 0, result.output
    out = [json.loads(text) for text in result.stdout.splitlines()]
    assert [o.get("id") or o["line"] for o in out] == ["t1", 2, "t2", 4, "t4"]
    assert out[1]["error"].startswith("invalid JSON") and "turns[0].role" in out[3]["error"]
    assert {f["rule"] for f in out[0]["findings"]} >= {"greeting.missing", "forbidden.phrase"}
    assert out[2]["score"] == 100.0
    assert f"skipped {batch_file}:2" in result.stderr and "3 transcript(s)" in result.stderr


def test_replay_writes_csv_and_html_reports_and_a_summary(batch_file: Path, tmp_path: Path) -> None:
    csv_out, html_out, summary = tmp_path / "qa.csv", tmp_path / "qa.html", tmp_path / "summary.json"
    command = ["qa", "replay", str(batch_file), "--format", "csv", "--out", str(csv_out), "--summary", str(summary)]
    assert runner.invoke(app, command).exit_code == 0
    aggregates = json.loads(summary.read_text(encoding="utf-8"))
    assert aggregates["overall"]["transcripts"] == 3 and [a["key"] for a in aggregates["by_agent"]] == ["alice"]
    assert {r["rule"] for r in aggregates["by_rule"]} >= {"greeting.missing", "pii.exposed"}
    assert runner.invoke(app, ["qa", "replay", str(batch_file), "--format", "html", "--out", str(html_out)]).exit_code == 0
    header, *rows = csv_out.read_text(encoding="utf-8").splitlines()
    assert header.startswith("id,agent,channel,flow,score") and any(r.startswith("t1,alice") for r in rows)
    page = html_out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 2 and 'data-rule="forbidden.phrase"' in page


def test_replay_reads_jddc_by_extension_or_input_format(tmp_path: Path) -> None:
    rows = "s1\tU1\t0\t0\t0\tnan\t你好\ns1\tU1\t1\t0\t0\tnan\t有什么问题我可以帮您处理或解决呢?\n"
    (tmp_path / "chat.tsv").write_text(rows, encoding="utf-8")
    (tmp_path / "chat.log").write_text(rows, encoding="utf-8")
    by_extension = runner.invoke(app, ["qa", "replay", str(tmp_path / "chat.tsv")])
    by_option = runner.invoke(app, ["qa", "replay", str(tmp_path / "chat.log"), "--input-format", "jddc"])
    for result in (by_extension, by_option):
        assert result.exit_code == 0, result.output
        (out,) = [json.loads(text) for text in result.stdout.splitlines()]
        assert out["id"] == "s1" and out["agent"] == "jddc" and len(out["turns"]) == 2


def test_replay_reads_standard_input() -> None:
    result = runner.invoke(app, ["qa", "replay", "-"], input=line("t9", ("customer", "你好"), ("agent", "您好")) + "\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["id"] == "t9"


def test_replay_reads_standard_input_past_a_line_that_is_not_utf8() -> None:
    good = [line(id, ("customer", "你好"), ("agent", "您好")).encode() for id in ("t1", "t3")]
    stdin = b"\n".join([good[0], "坏行".encode("gbk"), good[1]]) + b"\n"
    result = runner.invoke(app, ["qa", "replay", "-"], input=stdin)
    assert result.exit_code == 0, result.output
    assert [json.loads(text).get("id") for text in result.stdout.splitlines()] == ["t1", None, "t3"]
    assert "skipped <stdin>:2: not UTF-8" in result.stderr


def test_replay_refuses_bad_usage_with_exit_code_2(batch_file: Path, tmp_path: Path) -> None:
    assert runner.invoke(app, ["qa", "replay", str(batch_file), "--format", "pdf"]).exit_code == 2
    assert runner.invoke(app, ["qa", "replay", str(tmp_path / "nope.jsonl")]).exit_code == 2
    assert runner.invoke(app, ["qa", "replay", str(batch_file), "--workers", "0"]).exit_code == 2
    assert runner.invoke(app, ["qa", "replay", str(batch_file), "--flow", "nope"]).exit_code == 2


def test_replay_exits_1_on_broken_rules(batch_file: Path, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  greeting.missing:\n    greeting_cues: ['(']\n", encoding="utf-8")
    result = runner.invoke(app, ["qa", "replay", str(batch_file), "--rules", str(rules)])
    assert result.exit_code == 1 and "invalid regular expression" in result.stderr


def test_replay_exits_1_naming_a_rules_file_that_is_not_utf8(batch_file: Path, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_bytes("rules:\n  greeting.missing:\n    greeting_cues: ['您好']\n".encode("gbk"))
    result = runner.invoke(app, ["qa", "replay", str(batch_file), "--rules", str(rules)])
    assert result.exit_code == 1 and f"{rules}:3: qa-rule: the file is not UTF-8" in result.stderr


@pytest.mark.slow
def test_replay_with_workers_keeps_the_input_order(batch_file: Path) -> None:
    single = runner.invoke(app, ["qa", "replay", str(batch_file)])
    parallel = runner.invoke(app, ["qa", "replay", str(batch_file), "--workers", "2"])
    assert parallel.exit_code == 0, parallel.output
    assert parallel.stdout == single.stdout


def test_diff_exits_0_when_nothing_changed(batch_file: Path) -> None:
    result = runner.invoke(
        app, ["qa", "diff", str(batch_file), "--base-flows", str(PROJECT_ROOT / "flows"), "--base-scripts", str(PROJECT_ROOT / "scripts_zh")]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("3 transcripts, 0 changed")


def test_diff_shows_the_changed_score_when_a_rule_weight_changes(batch_file: Path, tmp_path: Path) -> None:
    heavier = tmp_path / "rules.yaml"
    text = RULES.read_text(encoding="utf-8")
    heavier.write_text(text.replace("  greeting.missing:\n    enabled: true\n    weight: 10", "  greeting.missing:\n    enabled: true\n    weight: 25"), encoding="utf-8")
    base = ["--base-flows", str(PROJECT_ROOT / "flows"), "--base-scripts", str(PROJECT_ROOT / "scripts_zh")]
    result = runner.invoke(app, ["qa", "diff", str(batch_file), *base, "--rules", str(heavier)])
    assert result.exit_code == 1, result.output
    assert "1 changed" in result.stdout and "t1" in result.stdout and "-15" in result.stdout
    as_json = json.loads(runner.invoke(app, ["qa", "diff", str(batch_file), *base, "--rules", str(heavier), "--json"]).stdout)
    (change,) = as_json["changes"]
    assert (change["id"], change["delta"]) == ("t1", -15.0)
