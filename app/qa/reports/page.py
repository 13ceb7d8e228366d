"""The HTML report: one self-contained file (inline CSS and SVG, no script, no external resource).

Summary charts (score distribution, findings per rule), tables per agent, channel and rule, skipped
input, then every transcript with its turns, per-turn tags and its findings marked inline. All text that
comes from transcripts or configuration goes through `html.escape`; turns are shown as `TurnTag.masked_text`,
full phone, ID and bank card numbers masked (a report gets forwarded; it must not spread them). What a reader
sees is Chinese text from `<scripts>/qa_report.yaml` (`ReportLabels`); ids and CSS classes stay English.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any, Final

from app.qa.model import Assessment, Finding, InputError, TurnTag
from app.qa.reports.charts import bar_chart, column_chart
from app.qa.reports.labels import ReportLabels
from app.qa.scoring import HISTOGRAM_BINS, NO_AGENT, Group, Summary

_CSS: Final = """
body{font-family:system-ui,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:1.5rem;color:#222;max-width:1200px}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
.meta{color:#555}.charts{display:flex;flex-wrap:wrap;gap:1.5rem}
.chart-title{font-weight:600;font-size:13px}.chart .label,.chart .value{font-size:11px;fill:#333}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.25rem .5rem;vertical-align:top;text-align:left}
th{background:#f4f6f8}td.num{text-align:right}
details.transcript{border:1px solid #ddd;border-radius:4px;margin:.5rem 0;padding:.25rem .5rem}
details.transcript>summary{cursor:pointer}
.score{font-weight:700}.score.low{color:#b23b3b}.score.mid{color:#a46a00}.score.high{color:#2e7d32}
tr.customer td.text{background:#f7f7f7}tr.agent td.text,tr.bot td.text{background:#eef4fb}
tr.finding td{background:#fff8e6;border-left:4px solid #e0a800;font-size:.92em}
tr.finding.fatal td{background:#fdecec;border-left-color:#b23b3b}
mark{background:#ffd54f;padding:0 1px}mark.critical{background:#ef9a9a}
.rule{font-family:ui-monospace,monospace;font-weight:600}.rule.id{font-weight:400;color:#888;font-size:.8em}.sev{font-size:.8em;padding:0 .3em;border-radius:3px;background:#eee}
.tags{color:#555;font-size:.85em;white-space:nowrap}.rec{color:#2e5e8c}.error{color:#b23b3b}
"""


def render_report(
    assessments: Sequence[Assessment],
    errors: Sequence[InputError],
    summary: Summary,
    *,
    labels: ReportLabels,
    title: str | None = None,
    rule_sources: Mapping[str, str] | None = None,
    rule_names: Mapping[str, str] | None = None,
) -> str:
    """The whole page as a string; `labels` are the texts a reader sees (`<scripts>/qa_report.yaml`), `rule_names`
    what a reviewer calls each rule (`name` in qa_rules.yaml; the id stays beside it for rule authors).
    Transcripts are listed worst first."""
    words = labels
    names = rule_names or {}
    heading = title or words.text("page.title")
    sources = rule_sources or {}
    overall = summary.overall
    versions = assessments[0].versions if assessments else {}
    meta = words.text(
        "page.summary",
        transcripts=overall.transcripts,
        mean=_num(overall.mean),
        median=_num(overall.median),
        findings=overall.findings,
        fatal=overall.fatal,
        errors=overall.errors,
        skipped=len(errors),
        content=versions.get("content", "?"),
        rules=versions.get("rules", "?"),
    )
    parts = [
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(heading)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(heading)}</h1>",
        f'<p class="meta">{escape(meta)}</p>',
        '<section id="charts" class="charts">',
        column_chart(_bin_labels(), list(summary.histogram), title=words.text("charts.scores")),
        bar_chart(
            [names.get(t.rule) or t.rule for t in summary.by_rule],
            [t.findings for t in summary.by_rule],
            title=words.text("charts.rules"),
            links=[f"#rule-{t.rule}" for t in summary.by_rule],  # a bar leads to its rule's row
        ),
        "</section>",
        f'<section id="agents"><h2>{escape(words.text("headings.agents"))}</h2>',
        _group_table(words, summary.by_agent, "agent"),
        "</section>",
        f'<section id="channels"><h2>{escape(words.text("headings.channels"))}</h2>',
        _group_table(words, summary.by_channel, "channel"),
        "</section>",
        f'<section id="rules"><h2>{escape(words.text("headings.rules"))}</h2><table>',
        _header(words, "rule", "findings", "transcripts", "points", "source"),
    ]
    for tally in summary.by_rule:
        parts.append(
            f'<tr id="rule-{escape(tally.rule)}"><td>{escape(names.get(tally.rule) or tally.rule)} '
            f'<span class="rule id">{escape(tally.rule)}</span></td>'
            f'<td class="num">{tally.findings}</td>'
            f'<td class="num">{tally.transcripts}</td><td class="num">{tally.points:g}</td>'
            f"<td>{escape(sources.get(tally.rule, ''))}</td></tr>"
        )
    parts.append("</table></section>")
    if summary.ratings is not None:
        parts.append(_ratings_section(words, summary.ratings))
    parts.append(_errors_section(words, assessments, errors))
    parts.append(f'<section id="transcripts"><h2>{escape(words.text("headings.transcripts"))}</h2>')
    worst_first = sorted(assessments, key=lambda a: (a.score is None, a.score if a.score is not None else 0.0))
    parts.extend(_transcript(words, item, names) for item in worst_first)
    parts.append("</section></body></html>\n")
    return "".join(parts)


def _bin_labels() -> list[str]:
    return [f"{low}–{low + 9}" if low < 90 else "90–100" for low in HISTOGRAM_BINS]


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def _header(words: ReportLabels, *columns: str) -> str:
    return "<tr>" + "".join(f"<th>{escape(words.text('columns.' + column))}</th>" for column in columns) + "</tr>"


def _group_table(words: ReportLabels, groups: Iterable[Group], kind: str) -> str:
    rows = ["<table>", _header(words, kind, "transcripts", "mean", "median", "min", "findings", "fatal", "errors")]
    for group in groups:
        if kind == "channel":
            key = words.name("channels", group.key)
        else:
            key = words.text("page.no_agent") if group.key == NO_AGENT else group.key
        rows.append(
            f"<tr><td>{escape(key)}</td><td class='num'>{group.transcripts}</td><td class='num'>{_num(group.mean)}</td>"
            f"<td class='num'>{_num(group.median)}</td><td class='num'>{_num(group.minimum)}</td>"
            f"<td class='num'>{group.findings}</td><td class='num'>{group.fatal}</td><td class='num'>{group.errors}</td></tr>"
        )
    rows.append("</table>")
    return "".join(rows)


def _ratings_section(words: ReportLabels, ratings: Mapping[str, Any]) -> str:
    """The customers' satisfaction ratings: overall, then by agent, flow, intent and day."""
    line = words.text("ratings.summary", count=ratings["count"], average=_num(ratings["average"]),
                      csat=_percent(ratings["csat"]))
    parts = [f'<section id="ratings"><h2>{escape(words.text("headings.ratings"))}</h2><p class="meta">{escape(line)}</p>']
    for group, column in (("by_agent", "agent"), ("by_flow", "flow"), ("by_intent", "intent"), ("by_day", "day")):
        parts.append("<table>" + _header(words, column, "ratings", "average_rating", "csat"))
        for row in ratings[group]:
            key = row["key"]
            if column == "agent" and key == "bot":
                key = words.name("roles", "bot")
            elif column == "intent":
                key = words.name("intents", key)
            parts.append(f"<tr><td>{escape(str(key))}</td><td class='num'>{row['count']}</td>"
                         f"<td class='num'>{_num(row['average'])}</td><td class='num'>{_percent(row['csat'])}</td></tr>")
        parts.append("</table>")
    parts.append("</section>")
    return "".join(parts)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _errors_section(words: ReportLabels, assessments: Sequence[Assessment], errors: Sequence[InputError]) -> str:
    heading = f'<section id="errors"><h2>{escape(words.text("headings.skipped"))}</h2>'
    failed = [a for a in assessments if a.error is not None]
    if not errors and not failed:
        return f"{heading}<p>{escape(words.text('skipped.none'))}</p></section>"
    rows = [heading, "<table>", _header(words, "where", "problem")]
    for error in errors:
        rows.append(f'<tr><td>{escape(error.source)}:{error.line}</td><td class="error">{escape(error.message)}</td></tr>')
    for item in failed:
        rows.append(
            f'<tr><td>{escape(item.source or item.id)} ({escape(item.id)})</td>'
            f'<td class="error">{escape(item.error or "")}</td></tr>'
        )
    rows.append("</table></section>")
    return "".join(rows)


def _score_class(score: float | None) -> str:
    if score is None:
        return "low"
    return "high" if score >= 90 else "mid" if score >= 70 else "low"


def _transcript(words: ReportLabels, item: Assessment, names: Mapping[str, str]) -> str:
    by_turn: dict[int, list[Finding]] = {}
    for finding in item.findings:
        by_turn.setdefault(finding.turn, []).append(finding)
    rules = sorted({names.get(f.rule) or f.rule for f in item.findings})
    opened = " open" if item.fatal else ""
    agent = words.text("transcript.agent", agent=item.agent) if item.agent else words.text("page.no_agent")
    fatal = f" · <b class=error>{escape(words.text('page.fatal'))}</b>" if item.fatal else ""
    head = (
        f'<details class="transcript" id="t-{escape(item.id)}"{opened}><summary><b>{escape(item.id)}</b> · '
        f"{escape(agent)} · {escape(words.name('channels', item.channel))} · "
        f'<span class="score {_score_class(item.score)}">{_num(item.score)}</span>'
        f"{fatal} · {escape(words.text('transcript.findings', count=len(item.findings)))}"
        f"{(' (' + escape(', '.join(rules)) + ')') if rules else ''}</summary>"
    )
    if item.error is not None:
        return head + f'<p class="error">{escape(item.error)}</p></details>'
    rows = [head, '<table class="turns">', _header(words, "turn", "role", "text", "tags")]
    for turn in item.turns:
        findings = by_turn.get(turn.index, [])
        rows.append(
            f'<tr class="turn {escape(turn.role)}{" flagged" if findings else ""}"><td class="num">{turn.index}</td>'
            f"<td>{escape(words.name('roles', turn.role))}</td>"
            f"<td class='text'>{_marked(turn.masked_text, findings)}</td>"
            f"<td class='tags'>{_tags(words, turn)}</td></tr>"
        )
        rows.extend(_finding_row(words, f, names) for f in findings)
    rows.append("</table></details>")
    return "".join(rows)


def _tags(words: ReportLabels, turn: TurnTag) -> str:
    if turn.is_agent:
        stages = turn.stages or ((turn.stage,) if turn.stage else ())
        what = escape(words.text("tags.stage", stages=" + ".join(words.name("stages", s) for s in stages)))
    else:
        confidence = "" if turn.confidence is None else f" {turn.confidence:.2f}"
        emotion = ""
        if turn.emotion and turn.emotion != "neutral":
            emotion = f" · {escape(words.name('emotions', turn.emotion))}"
        intent = words.text("tags.intent", intent=words.name("intents", turn.intent or ""))
        what = f"{escape(intent)}{confidence}{emotion}"
    return f"{what}<br>{escape(turn.state_before)} → {escape(turn.state)}"


def _marked(text: str, findings: Sequence[Finding]) -> str:
    """The turn's text with each finding's evidence span wrapped in <mark> (whole-turn quotes are not marked)."""
    spans = sorted(
        {
            (f.evidence.start, f.evidence.end, f.severity, f.rule)
            for f in findings
            if f.evidence.start is not None
            and f.evidence.end is not None
            and 0 <= f.evidence.start < f.evidence.end <= len(text)
            and (f.evidence.start, f.evidence.end) != (0, len(text))
        }
    )
    out: list[str] = []
    position = 0
    for start, end, severity, rule in spans:
        if start < position:
            continue  # overlapping spans: the first one is marked
        out.append(escape(text[position:start]))
        out.append(f'<mark class="{escape(severity)}" title="{escape(rule)}">{escape(text[start:end])}</mark>')
        position = end
    out.append(escape(text[position:]))
    return "".join(out)


def _finding_row(words: ReportLabels, finding: Finding, names: Mapping[str, str]) -> str:
    recommendation = finding.recommendation
    advice = ""
    if recommendation is not None:
        if recommendation.id:
            text = words.text("finding.recommended", id=recommendation.id, text=recommendation.text)
        else:  # pii.exposed: the agent's own reply, masked
            text = words.text("finding.rewrite", text=recommendation.text)
        advice = f'<br><span class="rec">{escape(text)}</span>'
    evidence = f" · 「{escape(finding.evidence.text)}」" if finding.evidence.text else ""
    fatal = f" · {escape(words.text('page.fatal'))}" if finding.fatal else ""
    return (
        f'<tr class="finding{" fatal" if finding.fatal else ""}" data-rule="{escape(finding.rule)}"><td></td>'
        f'<td colspan="3"><b>{escape(names.get(finding.rule) or finding.rule)}</b> <span class="rule id">{escape(finding.rule)}</span> '
        f'<span class="sev" title="{escape(finding.severity)}">{escape(words.name("severities", finding.severity))}'
        f"{fatal} · −{finding.points:g}</span> "
        f"{escape(finding.message)}{evidence}{advice}</td></tr>"
    )
