"""Adapter for the JD.com Dialogue Challenge (JDDC) chat log: tab-separated, one utterance per row.

    session id · customer id · sender (0 customer, 1 agent) · transferred flag · repeated flag · SKU or nan · text

Rows are grouped into one transcript per session, in file order. The data names no agent, so every
transcript has `agent="jddc"`; it has no timestamps, so time rules stay silent; `channel` is online.
One row may hold several messages joined by `!@@@!` (the original dump's separator): each becomes a turn.
A `NULL` text means "no reply in this round" and is skipped. Malformed rows come out as `LineError`s with
their line number and never stop the batch; a line the reader could not decode arrives as a `LineError`
already and is passed on in its place.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Final

from app.transcripts import LineError, Transcript, Turn

AGENT: Final = "jddc"
COLUMNS: Final = 7
SEPARATOR: Final = "!@@@!"
_ROLES: Final = {"0": "customer", "1": "agent"}
_NO_VALUE: Final = frozenset({"", "nan", "NULL", "null", "None"})


class _Session:
    __slots__ = ("customer", "first_line", "flags", "id", "sku", "turns")

    def __init__(self, session_id: str, customer: str, first_line: int) -> None:
        self.id = session_id
        self.customer = customer
        self.sku: str | None = None
        self.turns: list[Turn] = []
        self.flags = {"transferred": False, "repeated": False}
        self.first_line = first_line

    def transcript(self) -> Transcript:
        meta: dict[str, Any] = {"source": "jddc", "customer": self.customer, "line": self.first_line, **self.flags}
        if self.sku is not None:
            meta["sku"] = self.sku
        return Transcript(id=self.id, channel="online", turns=tuple(self.turns), agent=AGENT, meta=meta)


def read_jddc(lines: Iterable[str | LineError]) -> Iterator[Transcript | LineError]:
    """Transcripts (one per session, as soon as the session's rows end) and errors for bad rows.

    A session's rows must be contiguous (the published files are); rows of a session that already ended
    are reported as errors rather than silently starting a second transcript with the same id. A
    `LineError` among `lines` (an undecodable line) is reported and skipped like a malformed row.
    """
    current: _Session | None = None
    finished: set[str] = set()
    for number, raw in enumerate(lines, start=1):
        if isinstance(raw, LineError):
            yield raw
            continue
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != COLUMNS:
            yield LineError(number, f"expected {COLUMNS} tab-separated columns, got {len(fields)}")
            continue
        session_id, customer, sender, transferred, repeated, sku, text = fields
        problem = _check(session_id, sender, transferred, repeated)
        if problem:
            yield LineError(number, problem)
            continue
        if current is None or current.id != session_id:
            if current is not None:
                finished.add(current.id)
                yield current.transcript()
                current = None
            if session_id in finished:
                yield LineError(number, f"session {session_id} continues after other sessions; sort the file by session")
                continue
            current = _Session(session_id, customer, number)
        if sku not in _NO_VALUE and current.sku is None:
            current.sku = sku
        current.flags["transferred"] |= transferred == "1"
        current.flags["repeated"] |= repeated == "1"
        role = _ROLES[sender]
        for message in text.split(SEPARATOR):
            message = message.strip()
            if message and message not in _NO_VALUE:
                current.turns.append(Turn(role, message))
    if current is not None:
        yield current.transcript()


def _check(session_id: str, sender: str, transferred: str, repeated: str) -> str | None:
    if not session_id.strip():
        return "empty session id (column 1)"
    if sender not in _ROLES:
        return f"sender (column 3) must be 0 (customer) or 1 (agent), got {sender!r}"
    for column, value in ((4, transferred), (5, repeated)):
        if value not in ("0", "1"):
            return f"flag (column {column}) must be 0 or 1, got {value!r}"
    return None
