"""Report formats: JSON Lines with the contract fields, CSV one row per finding, one self-contained HTML page."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from app.qa.assessor import Assessor
from app.qa.model import Assessment, Evidence, Finding, InputError, Recommendation
from app.qa.reports.jsonl import write_jsonl
from app.qa.reports.labels import ReportLabels
from app.qa.reports.page import render_report
from app.qa.reports.table import COLUMNS, write_csv
from app.qa.rulebook import RuleBook
from app.qa.scoring import summarize
from tests.qa.conftest import agent, customer, transcript

HOSTILE = '<script>alert("x")</script>&<b>'


@pytest.fixture
def batch(assessor: Assessor) -> list[Assessment]:
    return [
        assessor.assess(
            transcript(
                customer(f"我的快递到哪了{HOSTILE}"), agent("亲,这个不行。"), agent("您的电话13812345678"), id="bad-<1>"
            )
        ),
        assessor.assess(
            transcript(
                customer("你好"),
                agent("您好,很高兴为您服务!我是客服专员小李,请问有什么可以帮到您?"),
                customer("没有了,谢谢"),
                agent("请问还有其他需要帮助的吗?"),
                customer("没有了"),
                agent("感谢您的咨询,祝您生活愉快,再见!"),
                id="good",
            )
        ),
    ]


ERRORS = [InputError("in.jsonl", 3, "invalid JSON: Expecting value (column 1)")]


def test_json_lines_carry_the_contract_fields(batch: list[Assessment]) -> None:
    out = io.StringIO()
    write_jsonl([*batch, *ERRORS], out)
    first, second, error = (json.loads(line) for line in out.getvalue().splitlines())
    for key in ("id", "score", "findings", "turns"):
        assert key in first
    assert first["id"] == "bad-<1>" and second["score"] == 100.0 and second["findings"] == []
    finding = first["findings"][0]
    for key in ("rule", "turn", "severity", "evidence", "recommendation", "message", "points"):
        assert key in finding
    assert {"role", "text", "state", "intent"} <= set(first["turns"][0])
    assert {"role", "text", "state", "stage", "stages"} <= set(first["turns"][1])
    assert error == {"error": ERRORS[0].message, "source": "in.jsonl", "line": 3}


def test_csv_has_one_row_per_finding_and_one_for_a_clean_transcript(batch: list[Assessment]) -> None:
    out = io.StringIO()
    write_csv([*batch, *ERRORS], out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0]) == list(COLUMNS)
    bad = [r for r in rows if r["id"] == "bad-<1>"]
    assert len(bad) == len(batch[0].findings) and all(r["score"] == str(batch[0].score) for r in bad)
    assert [r["rule"] for r in rows if r["id"] == "good"] == [""]
    assert rows[-1]["error"] == ERRORS[0].message and rows[-1]["source"] == "in.jsonl:3"


def test_html_is_self_contained_and_escapes_every_text(
    batch: list[Assessment], rulebook: RuleBook, labels: ReportLabels
) -> None:
    page = render_report(batch, ERRORS, summarize(batch, [r.id for r in rulebook.enabled]), labels=labels)
    assert "<script" not in page  # the hostile text is shown, never run
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&lt;b&gt;" in page
    assert 'id="t-bad-&lt;1&gt;"' in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # nothing to fetch: works offline
    assert "<link" not in page and "@import" not in page
    assert "13812345678" not in page and "138****5678" in page  # a forwarded report does not spread numbers


def test_html_has_the_charts_tables_and_findings_marked_inline(batch: list[Assessment], labels: ReportLabels) -> None:
    page = render_report(batch, ERRORS, summarize(batch), labels=labels, rule_sources={"forbidden.phrase": "004 二1"})
    assert page.count("<svg") == 2 and 'class="bar"' in page
    assert 'id="agents"' in page and 'id="rules"' in page and "004 二1" in page
    assert '<mark class="major" title="forbidden.phrase">不行</mark>' in page
    assert 'data-rule="forbidden.phrase"' in page and "目前暂时无法直接解决" in page
    assert "in.jsonl:3" in page


FULL_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def test_no_full_phone_number_survives_in_any_report(assessor: Assessor, rulebook: RuleBook, labels: ReportLabels) -> None:
    # confirm.missing restates the customer's words; pii.exposed quotes the agent; both carry the number.
    assessed = assessor.assess(
        transcript(
            customer("我的手机号13812345678,洗衣机坏了不能脱水了"),
            agent("您好,我是小李。您可以申请上门维修。"),
            agent("已经登记您的电话13812345678,稍后给您反馈。"),
            id="pii",
        )
    )
    rules = {f.rule for f in assessed.findings}
    assert {"confirm.missing", "pii.exposed"} <= rules
    (confirm,) = [f for f in assessed.findings if f.rule == "confirm.missing"]
    assert confirm.recommendation is not None and "138****5678" in confirm.recommendation.text

    json_out, csv_out = io.StringIO(), io.StringIO()
    write_jsonl([assessed], json_out)
    write_csv([assessed], csv_out)
    page = render_report([assessed], [], summarize([assessed], [r.id for r in rulebook.enabled]), labels=labels)
    # The JSON `turns` echo the input on purpose (docs/qa.md); everything a finding says is masked.
    findings = json.dumps(json.loads(json_out.getvalue())["findings"], ensure_ascii=False)
    for name, text in (("json findings", findings), ("csv", csv_out.getvalue()), ("html", page)):
        assert FULL_PHONE.search(text) is None, name
        assert "138****5678" in text, name


def test_csv_cells_that_start_a_formula_are_written_as_text() -> None:
    finding = Finding(
        rule="forbidden.phrase",
        turn=1,
        severity="major",
        message="+msg",
        evidence=Evidence("-1+2", 0, 4),
        recommendation=Recommendation("@id", "\t=cmd"),
        points=8.0,
    )
    hostile = Assessment('=HYPERLINK("http://x","y")', "online", "@SUM(A1)", "\rflow", 92.0, (finding,))
    out = io.StringIO(newline="")  # keep the \r as written
    write_csv([hostile, InputError("-in.jsonl", 2, "=bad")], out)
    row, error = csv.DictReader(io.StringIO(out.getvalue(), newline=""))
    assert (row["id"], row["agent"], row["flow"]) == ('\'=HYPERLINK("http://x","y")', "'@SUM(A1)", "'\rflow")
    assert (row["message"], row["evidence"]) == ("'+msg", "'-1+2")
    assert (row["recommendation_id"], row["recommendation"]) == ("'@id", "'\t=cmd")
    # Numbers and our own names are written as they are.
    assert (row["score"], row["points"], row["start"], row["rule"]) == ("92.0", "8.0", "0", "forbidden.phrase")
    assert (error["source"], error["error"]) == ("'-in.jsonl:2", "'=bad")
