"""QA of what followed a chat: promises not kept in time (`commitment.overdue`) and the customers' ratings
in the batch summary and the HTML report, read from the `aftercare` of exported transcripts."""

from __future__ import annotations

from typing import Any

import pytest

from app.qa.assessor import Assessor
from app.qa.reports.labels import ReportLabels
from app.qa.reports.page import render_report
from app.qa.scoring import summarize
from app.transcripts import Transcript

TURNS = [
    {"role": "bot", "text": "您好,很高兴为您服务,请问有什么可以帮您?"},
    {"role": "customer", "text": "我的快递到哪了,订单号202611189999"},
    {"role": "bot", "text": "这个问题需要进一步核实,我们会在24小时内给您答复,请您保持电话畅通。"},
    {"role": "customer", "text": "好的,谢谢"},
    {"role": "bot", "text": "感谢您的咨询,祝您生活愉快,再见!"},
]


def exported(commitment: dict[str, Any] | None = None, rating: dict[str, Any] | None = None,
             ident: str = "t-1", agent: str | None = None) -> Transcript:
    aftercare: dict[str, Any] = {}
    if commitment is not None:
        aftercare["commitments"] = [{"id": "c-3-0", "what": "我们会在24小时内给您答复", "window": "24小时内", "turn": 2,
                                     "due_at": "2026-12-05T08:00:00+00:00", "done_at": None, **commitment}]
    if rating is not None:
        aftercare["rating"] = rating
    data = {"id": ident, "channel": "online", "flow": "default", "turns": TURNS, "aftercare": aftercare}
    if agent:
        data["agent"] = agent
    return Transcript.from_dict(data)


def overdue(assessor: Assessor, transcript: Transcript) -> list[int]:
    return [f.turn for f in assessor.assess(transcript).findings if f.rule == "commitment.overdue"]


@pytest.mark.parametrize(("commitment", "turns"), [
    ({"status": "overdue"}, [2]),  # still open past its time: found where it was promised
    ({"status": "done", "done_at": "2026-12-05T09:30:00+00:00", "done_by": "alice"}, [2]),  # kept, but late
    ({"status": "done", "done_at": "2026-12-05T07:00:00+00:00", "done_by": "alice"}, []),  # kept in time
    ({"status": "open"}, []),  # not yet due
])
def test_a_promise_not_kept_in_time_is_a_finding_at_the_turn_that_made_it(
    assessor: Assessor, commitment: dict[str, Any], turns: list[int]
) -> None:
    assert overdue(assessor, exported(commitment)) == turns


def test_without_aftercare_records_the_rule_is_silent(assessor: Assessor) -> None:
    assert overdue(assessor, exported()) == []


def test_a_bad_aftercare_object_is_refused_naming_the_field() -> None:
    from app.errors import TranscriptError

    with pytest.raises(TranscriptError, match=r"aftercare.commitments\[0\].turn"):
        exported({"status": "open", "turn": 99})
    with pytest.raises(TranscriptError, match="aftercare.rating"):
        exported(rating={"score": 9})


def test_ratings_are_aggregated_in_the_summary_and_shown_in_the_report(
    assessor: Assessor, labels: ReportLabels
) -> None:
    batch = [
        assessor.assess(exported(rating={"score": 5, "comment": "", "at": "2026-12-04T08:00:00+00:00",
                                         "intent": "order_status"}, ident="a", agent="小李")),
        assessor.assess(exported(rating={"score": 2, "comment": "太慢", "at": "2026-12-05T08:00:00+00:00",
                                         "intent": "order_status"}, ident="b", agent="小李")),
        assessor.assess(exported(ident="c")),  # not rated
    ]

    summary = summarize(batch, assessor.rule_ids)
    page = render_report(batch, [], summary, labels=labels)

    assert summary.ratings is not None
    assert (summary.ratings["count"], summary.ratings["average"], summary.ratings["csat"]) == (2, 3.5, 0.5)
    assert [(g["key"], g["count"]) for g in summary.ratings["by_agent"]] == [("小李", 2)]
    assert [g["key"] for g in summary.ratings["by_day"]] == ["2026-12-04", "2026-12-05"]
    assert 'id="ratings"' in page and labels.text("headings.ratings") in page and "50%" in page
    assert summarize(batch[2:], assessor.rule_ids).ratings is None
