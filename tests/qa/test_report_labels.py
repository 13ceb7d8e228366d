"""The HTML report's visible texts come from `scripts_zh/qa_report.yaml`; a broken file names file and key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from app.config import PROJECT_ROOT, Settings
from app.content.errors import ContentErrors
from app.content.loader import load_intents
from app.qa.assessor import Assessor
from app.qa.model import Assessment, InputError
from app.qa.reports.labels import (
    KEYS,
    NAMES,
    QaReportError,
    ReportLabels,
    load_report_labels,
    parse_report_labels,
    report_labels_file,
)
from app.qa.reports.page import render_report
from app.qa.scoring import summarize
from tests.qa.conftest import agent, bot, customer, transcript

SHIPPED = report_labels_file(Settings().scripts_dir)


@pytest.fixture(scope="module")
def shipped() -> ReportLabels:
    return load_report_labels(SHIPPED)


class Recorder(dict[str, str]):
    """A labels mapping that remembers every key the page looked up."""

    def __init__(self, texts: dict[str, str]) -> None:
        super().__init__(texts)
        self.used: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.used.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        self.used.add(key)
        return super().get(key, default)


def every_kind_of_entry(assessor: Assessor) -> tuple[list[Assessment], list[InputError]]:
    """Transcripts and errors that take every branch of the page: fatal, clean, no agent, bot, failed replay."""
    batch = [
        assessor.assess(transcript(customer("你们太差了,我要投诉"), agent("这是你自己的问题,您的电话13812345678"), id="fatal")),
        assessor.assess(transcript(customer("你好"), bot("您好,我是小李,请问有什么可以帮您?"), agent_name=None, id="bot")),
        assessor.assess(transcript(customer("我的快递到哪了"), agent("亲,这个不行。"), channel="phone", id="phone")),
        Assessment("broken", "email", "alice", "default", None, error="engine_error: boom", source="in.jsonl:9"),
    ]
    return batch, [InputError("in.jsonl", 3, "invalid JSON")]


def test_the_shipped_file_has_every_key_and_no_other(shipped: ReportLabels) -> None:
    intents = {key for key in shipped.texts if key.startswith("intents.")}
    assert set(shipped.texts) - intents == KEYS
    # The pack's intents are open names (a pack declares its own); the default pack labels every one.
    assert intents == {f"intents.{name}" for name in load_intents(PROJECT_ROOT / "scripts_zh")}
    for group, values in NAMES.items():
        assert all(f"{group}.{value}" in shipped.texts for value in values), group


def test_every_label_the_page_uses_is_in_the_shipped_file(assessor: Assessor, shipped: ReportLabels) -> None:
    used: set[str] = set()
    batch, errors = every_kind_of_entry(assessor)
    for entries, skipped in ((batch, errors), (batch[:1], [])):  # with and without the skipped-input table
        recorder = Recorder(dict(shipped.texts))
        render_report(entries, skipped, summarize(entries, assessor.rule_ids), labels=ReportLabels(recorder))
        used |= recorder.used
    assert used - set(shipped.texts) == set()
    assert {"roles.bot", "channels.phone", "severities.critical", "page.no_agent", "headings.skipped"} <= used


def test_the_page_shows_the_labels_and_keeps_ids_english(assessor: Assessor, shipped: ReportLabels) -> None:
    batch, errors = every_kind_of_entry(assessor)
    page = render_report(batch, errors, summarize(batch, assessor.rule_ids), labels=shipped)
    for key in ("page.title", "charts.scores", "charts.rules", "headings.agents", "headings.skipped", "roles.customer"):
        assert shipped.text(key) in page, key
    for english in ("Score distribution", "Findings per rule", "Per agent", "Skipped input", "Transcripts", ">customer<"):
        assert english not in page
    assert 'data-rule="forbidden.phrase"' in page and 'class="turn customer' in page and 'id="errors"' in page


def test_a_missing_key_is_named_with_file_and_line() -> None:
    text = SHIPPED.read_text(encoding="utf-8").replace('  agents: "按坐席"\n', "", 1)
    with pytest.raises(ContentErrors) as caught:
        parse_report_labels(text, "my_report.yaml")
    (defect,) = caught.value.defects
    assert isinstance(defect, QaReportError) and defect.file == "my_report.yaml" and defect.line is not None
    assert "missing key 'headings.agents'" in defect.describe()


def test_unknown_keys_placeholders_and_values_are_refused() -> None:
    text = (
        SHIPPED.read_text(encoding="utf-8")
        .replace('title: "话术质检报告"', 'titel: "话术质检报告"', 1)
        .replace('agent: "坐席 {agent}"', 'agent: "坐席 {name}"', 1)
        .replace('bot: "机器人"', "bot: [机器人]", 1)
    )
    with pytest.raises(ContentErrors) as caught:
        parse_report_labels(text, "my_report.yaml")
    messages = sorted(d.message for d in caught.value.defects)
    assert messages == [
        "'roles.bot' must be a text",
        "'transcript.agent' has unknown placeholder(s) ['name']",
        "missing key 'page.title'",
        "unknown key 'page.titel'",
    ]


def test_a_file_that_is_missing_or_not_utf8_is_named(tmp_path: Path) -> None:
    with pytest.raises(ContentErrors) as caught:
        load_report_labels(tmp_path / "qa_report.yaml")
    assert str(tmp_path / "qa_report.yaml") in caught.value.defects[0].describe()
    gbk = tmp_path / "gbk.yaml"
    gbk.write_bytes("page:\n  title: 质检\n".encode("gbk"))
    with pytest.raises(ContentErrors) as caught:
        load_report_labels(gbk)
    (defect,) = caught.value.defects
    assert defect.file == str(gbk) and defect.line == 2 and "not UTF-8" in defect.message


def test_html_replay_without_the_labels_file_exits_1_naming_it(tmp_path: Path) -> None:
    scripts = tmp_path / "scripts_zh"
    shutil.copytree(PROJECT_ROOT / "scripts_zh", scripts)
    (scripts / "qa_report.yaml").unlink()
    batch = tmp_path / "batch.jsonl"
    batch.write_text('{"id":"t1","turns":[{"role":"customer","text":"你好"}]}\n', encoding="utf-8")
    command = ["qa", "replay", str(batch), "--scripts", str(scripts), "--format", "html", "--out", str(tmp_path / "qa.html")]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 1
    assert str(scripts / "qa_report.yaml") in result.stderr and not (tmp_path / "qa.html").exists()
    # JSON and CSV do not need the page's texts.
    assert CliRunner().invoke(app, ["qa", "replay", str(batch), "--scripts", str(scripts)]).exit_code == 0
