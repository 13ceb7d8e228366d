"""The HTML report: one self-contained file (inline CSS and SVG, no script, no external resource).

Summary charts (score distribution, findings per rule), tables per agent, channel and rule, skipped
input, then every transcript with its turns, per-turn tags and its findings marked inline. All text that
comes from transcripts or configuration goes through `html.escape`; full phone, ID and bank card numbers
in turns are shown masked (a report gets forwarded; it must not spread them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Final

from app.qa.model import Assessment, Finding, InputError, TurnTag
from app.qa.pii import mask_all
from app.qa.reports.charts import bar_chart, column_chart
from app.qa.scoring import HISTOGRAM_BINS, Group, Summary

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
.rule{font-family:ui-monospace,monospace;font-weight:600}.sev{font-size:.8em;padding:0 .3em;border-radius:3px;background:#eee}
.tags{color:#555;font-size:.85em;white-space:nowrap}.rec{color:#2e5e8c}.error{color:#b23b3b}
"""


def render_report(
    assessments: Sequence[Assessment],
    errors: Sequence[InputError],
    summary: Summary,
    *,
    title: str = "Huashu QA report",
    rule_sources: Mapping[str, str] | None = None,
) -> str:
    """The whole page as a string."""
    sources = rule_sources or {}
    overall = summary.overall
    versions = assessments[0].versions if assessments else {}
    parts = [
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        (
            f'<p class="meta">{overall.transcripts} transcripts · mean score {_num(overall.mean)} · median {_num(overall.median)}'
            f" · {overall.findings} findings · {overall.fatal} fatal · {overall.errors} not replayed"
            f" · {len(errors)} skipped input lines"
            f" · content {escape(versions.get('content', '?'))} · rules {escape(versions.get('rules', '?'))}</p>"
        ),
        '<section id="charts" class="charts">',
        column_chart(_bin_labels(), list(summary.histogram), title="Score distribution (transcripts per score band)"),
        bar_chart(
            [t.rule for t in summary.by_rule],
            [t.findings for t in summary.by_rule],
            title="Findings per rule",
        ),
        "</section>",
        '<section id="agents"><h2>Per agent</h2>',
        _group_table(summary.by_agent, "agent"),
        "</section>",
        '<section id="channels"><h2>Per channel</h2>',
        _group_table(summary.by_channel, "channel"),
        "</section>",
        (
            '<section id="rules"><h2>Per rule</h2><table><tr><th>rule</th><th>findings</th><th>transcripts</th>'
            "<th>points deducted</th><th>seed source</th></tr>"
        ),
    ]
    for tally in summary.by_rule:
        parts.append(
            f'<tr><td class="rule">{escape(tally.rule)}</td><td class="num">{tally.findings}</td>'
            f'<td class="num">{tally.transcripts}</td><td class="num">{tally.points:g}</td>'
            f"<td>{escape(sources.get(tally.rule, ''))}</td></tr>"
        )
    parts.append("</table></section>")
    parts.append(_errors_section(assessments, errors))
    parts.append('<section id="transcripts"><h2>Transcripts</h2>')
    parts.extend(_transcript(item) for item in assessments)
    parts.append("</section></body></html>\n")
    return "".join(parts)


def _bin_labels() -> list[str]:
    return [f"{low}–{low + 9}" if low < 90 else "90–100" for low in HISTOGRAM_BINS]


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def _group_table(groups: Iterable[Group], label: str) -> str:
    rows = [
        (
            f"<table><tr><th>{label}</th><th>transcripts</th><th>mean</th><th>median</th><th>min</th>"
            "<th>findings</th><th>fatal</th><th>not replayed</th></tr>"
        )
    ]
    for group in groups:
        rows.append(
            f"<tr><td>{escape(group.key)}</td><td class='num'>{group.transcripts}</td><td class='num'>{_num(group.mean)}</td>"
            f"<td class='num'>{_num(group.median)}</td><td class='num'>{_num(group.minimum)}</td>"
            f"<td class='num'>{group.findings}</td><td class='num'>{group.fatal}</td><td class='num'>{group.errors}</td></tr>"
        )
    rows.append("</table>")
    return "".join(rows)


def _errors_section(assessments: Sequence[Assessment], errors: Sequence[InputError]) -> str:
    failed = [a for a in assessments if a.error is not None]
    if not errors and not failed:
        return '<section id="errors"><h2>Skipped input</h2><p>None.</p></section>'
    rows = ['<section id="errors"><h2>Skipped input</h2><table><tr><th>where</th><th>problem</th></tr>']
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


def _transcript(item: Assessment) -> str:
    by_turn: dict[int, list[Finding]] = {}
    for finding in item.findings:
        by_turn.setdefault(finding.turn, []).append(finding)
    rules = sorted({f.rule for f in item.findings})
    opened = " open" if item.fatal else ""
    head = (
        f'<details class="transcript" id="t-{escape(item.id)}"{opened}><summary><b>{escape(item.id)}</b> · '
        f"agent {escape(item.agent or '—')} · {escape(item.channel)} · "
        f'<span class="score {_score_class(item.score)}">{_num(item.score)}</span>'
        f"{' · <b class=error>fatal</b>' if item.fatal else ''} · {len(item.findings)} findings"
        f"{(' (' + escape(', '.join(rules)) + ')') if rules else ''}</summary>"
    )
    if item.error is not None:
        return head + f'<p class="error">{escape(item.error)}</p></details>'
    rows = [head, '<table class="turns"><tr><th>#</th><th>role</th><th>text</th><th>tags</th></tr>']
    for turn in item.turns:
        findings = by_turn.get(turn.index, [])
        rows.append(
            f'<tr class="turn {escape(turn.role)}{" flagged" if findings else ""}"><td class="num">{turn.index}</td>'
            f"<td>{escape(turn.role)}</td><td class='text'>{_marked(mask_all(turn.text), findings)}</td>"
            f"<td class='tags'>{_tags(turn)}</td></tr>"
        )
        rows.extend(_finding_row(f) for f in findings)
    rows.append("</table></details>")
    return "".join(rows)


def _tags(turn: TurnTag) -> str:
    if turn.is_agent:
        label = " + ".join(turn.stages) if turn.stages else (turn.stage or "")
        what = f"stage {escape(label)}"
    else:
        confidence = "" if turn.confidence is None else f" {turn.confidence:.2f}"
        emotion = f" · {escape(turn.emotion)}" if turn.emotion and turn.emotion != "neutral" else ""
        what = f"intent {escape(turn.intent or '')}{confidence}{emotion}"
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


def _finding_row(finding: Finding) -> str:
    recommendation = finding.recommendation
    advice = ""
    if recommendation is not None:
        label = f" ({escape(recommendation.id)})" if recommendation.id else ""
        advice = f'<br><span class="rec">recommended{label}: {escape(recommendation.text)}</span>'
    evidence = f" · 「{escape(finding.evidence.text)}」" if finding.evidence.text else ""
    return (
        f'<tr class="finding{" fatal" if finding.fatal else ""}" data-rule="{escape(finding.rule)}"><td></td>'
        f'<td colspan="3"><span class="rule">{escape(finding.rule)}</span> <span class="sev">{escape(finding.severity)}'
        f"{' · fatal' if finding.fatal else ''} · −{finding.points:g}</span> {escape(finding.message)}{evidence}{advice}</td></tr>"
    )
