"""Fixtures for the QA tests: the shipped engine and rules, transcript factories, the shared JDDC sample."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.config import PROJECT_ROOT, Settings
from app.engine.step import Engine
from app.qa.assessor import Assessor
from app.qa.model import Assessment, Finding
from app.qa.reports.labels import ReportLabels, load_report_labels, report_labels_file
from app.qa.rulebook import RuleBook
from app.qa.rules import load_rules, parse_rules, rules_file
from app.runtime import build_engine
from app.transcripts import Transcript, Turn

SHARED_DATA_ENV = "HUASHU_SHARED_DATA"
T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def shared_data() -> Path | None:
    """`$HUASHU_SHARED_DATA`, else `../shared/data` next to the repository; None when neither exists."""
    candidates = [Path(os.environ[SHARED_DATA_ENV])] if os.environ.get(SHARED_DATA_ENV) else []
    candidates.append(PROJECT_ROOT.parent / "shared" / "data")
    return next((path for path in candidates if path.is_dir()), None)


@pytest.fixture(scope="session")
def jddc_sample() -> Path:
    data = shared_data()
    sample = data / "jddc" / "chat_sample.tsv" if data else None
    if sample is None or not sample.is_file():
        pytest.skip(f"JDDC sample not found: set {SHARED_DATA_ENV} or put it at ../shared/data/jddc/chat_sample.tsv")
    return sample


@pytest.fixture(scope="session")
def engine() -> Engine:
    return build_engine(Settings())


@pytest.fixture(scope="session")
def labels() -> ReportLabels:
    """The HTML report's shipped texts (scripts_zh/qa_report.yaml)."""
    return load_report_labels(report_labels_file(Settings().scripts_dir))


@pytest.fixture(scope="session")
def rulebook() -> RuleBook:
    return load_rules(rules_file(Settings().scripts_dir))


@pytest.fixture(scope="session")
def assessor(engine: Engine, rulebook: RuleBook) -> Assessor:
    return Assessor(engine, rulebook)


def customer(text: str, at: int | None = None) -> Turn:
    """A customer turn; `at` is seconds after T0 (None: no timestamp)."""
    return Turn("customer", text, None if at is None else T0 + timedelta(seconds=at))


def agent(text: str, at: int | None = None) -> Turn:
    return Turn("agent", text, None if at is None else T0 + timedelta(seconds=at))


def bot(text: str, at: int | None = None) -> Turn:
    return Turn("bot", text, None if at is None else T0 + timedelta(seconds=at))


def transcript(*turns: Turn, channel: str = "online", agent_name: str | None = "小李", id: str = "t-1") -> Transcript:
    return Transcript(id=id, channel=channel, turns=turns, agent=agent_name)


Check = Callable[..., list[Finding]]


@pytest.fixture
def assess(assessor: Assessor) -> Callable[..., Assessment]:
    """Assess a transcript built from turns with the shipped rules."""

    def run(*turns: Turn, channel: str = "online", agent_name: str | None = "小李") -> Assessment:
        return assessor.assess(transcript(*turns, channel=channel, agent_name=agent_name))

    return run


@pytest.fixture
def check(assess: Callable[..., Assessment]) -> Check:
    """The findings of one rule for a transcript built from turns."""

    def run(rule: str, *turns: Turn, channel: str = "online", agent_name: str | None = "小李") -> list[Finding]:
        return [f for f in assess(*turns, channel=channel, agent_name=agent_name).findings if f.rule == rule]

    return run


@pytest.fixture
def rules_with(rulebook: RuleBook) -> Callable[[str, str], RuleBook]:
    """The shipped rules file with one text replacement applied (for scoring and diff tests)."""
    text = Path(rulebook.file).read_text(encoding="utf-8")

    def make(old: str, new: str = "") -> RuleBook:
        assert old in text, f"{old!r} is not in the rules file"
        return parse_rules(text.replace(old, new, 1), "edited_rules.yaml")

    return make
