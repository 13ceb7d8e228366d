"""The HTML report rendered by headless Chromium: its charts and its findings are in the rendered DOM.

Needs Debian's `chromium` (`apt-get install chromium`); skipped without it unless HUASHU_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.qa.assessor import Assessor
from app.qa.reports.labels import ReportLabels
from app.qa.reports.page import render_report
from app.qa.scoring import summarize
from tests.browser import dump_dom
from tests.qa.conftest import agent, customer, transcript

pytestmark = pytest.mark.browser


def rendered_dom(page: Path, profile: Path) -> str:
    """The DOM after Chromium loaded the page from disk, offline."""
    return dump_dom(page.as_uri(), profile)


def test_the_report_renders_its_charts_and_marks_findings(assessor: Assessor, labels: ReportLabels, tmp_path: Path) -> None:
    batch = [
        assessor.assess(transcript(customer("<img src=x onerror=alert(1)>我的快递到哪了"), agent("亲,这个不行。"), id="refused")),
        assessor.assess(transcript(customer("你好"), agent("您好,我是小李,请问有什么可以帮您?"), id="fine")),
    ]
    page = tmp_path / "qa.html"
    page.write_text(render_report(batch, [], summarize(batch, assessor.rule_ids), labels=labels), encoding="utf-8")
    dom = rendered_dom(page, tmp_path / "profile")
    assert dom.count("<svg") == 2 and dom.count('class="bar"') >= 10
    # The chart titles are the shipped Chinese labels (scripts_zh/qa_report.yaml).
    assert labels.text("charts.scores") in dom and labels.text("charts.rules") in dom
    assert 'data-rule="forbidden.phrase"' in dom and 'data-rule="greeting.missing"' in dom
    assert '<mark class="major" title="forbidden.phrase">不行</mark>' in dom
    assert "&lt;img src=x onerror=alert(1)&gt;" in dom and "<img" not in dom  # shown as text, never as markup
    assert 'id="t-refused"' in dom and 'id="agents"' in dom
