"""CSV: one row per finding, each carrying its transcript's score; a transcript without findings gets one
row with an empty `rule`, so every score appears; skipped input lines and failed replays get an `error` row.

Cells quote transcripts, and spreadsheets run a cell that starts with a formula character, so every text cell
goes through `_cell` (OWASP "CSV injection"): `=1+2` is written as `'=1+2`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any, Final, TextIO

from app.qa.model import Assessment, InputError

# What makes Excel, LibreOffice and Google Sheets read a cell as a formula (OWASP).
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")

COLUMNS: Final = (
    "id",
    "agent",
    "channel",
    "flow",
    "score",
    "fatal",
    "rule",
    "turn",
    "severity",
    "points",
    "message",
    "evidence",
    "start",
    "end",
    "recommendation_id",
    "recommendation",
    "source",
    "error",
)


def rows(entry: Assessment | InputError) -> Iterator[dict[str, Any]]:
    if isinstance(entry, InputError):
        yield {"source": f"{entry.source}:{entry.line}", "error": entry.message}
        return
    base = {
        "id": entry.id,
        "agent": entry.agent or "",
        "channel": entry.channel,
        "flow": entry.flow or "",
        "score": "" if entry.score is None else entry.score,
        "fatal": entry.fatal,
        "source": entry.source or "",
        "error": entry.error or "",
    }
    if not entry.findings:
        yield base
        return
    for finding in entry.findings:
        recommendation = finding.recommendation
        yield {
            **base,
            "rule": finding.rule,
            "turn": finding.turn,
            "severity": finding.severity,
            "points": finding.points,
            "message": finding.message,
            "evidence": finding.evidence.text,
            "start": "" if finding.evidence.start is None else finding.evidence.start,
            "end": "" if finding.evidence.end is None else finding.evidence.end,
            "recommendation_id": (recommendation.id or "") if recommendation else "",
            "recommendation": recommendation.text if recommendation else "",
        }


def write_csv(entries: Iterable[Assessment | InputError], out: TextIO) -> None:
    # CRLF rows (RFC 4180): the csv module quotes a cell only for characters of the line terminator, so with
    # "\n" alone a CR inside a quoted turn was written bare and split the row in every reader.
    writer = csv.DictWriter(out, fieldnames=COLUMNS, restval="", lineterminator="\r\n")
    writer.writeheader()
    for entry in entries:
        writer.writerows({column: _cell(value) for column, value in row.items()} for row in rows(entry))


def _cell(value: object) -> object:
    """A text that a spreadsheet would run as a formula, prefixed with `'` so it is shown as text; numbers
    (a score, a turn index) are written as they are."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
