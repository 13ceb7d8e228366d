"""The transcript interchange format: one JSON object per conversation, one per line (JSON Lines).

    {"id", "channel", "agent"?, "flow"?, "turns": [{"role": "agent|customer|bot", "text", "ts"?}], "aftercare"?}

`aftercare` (exports of stored conversations, docs/aftercare.md): `{"rating"?: {"score", "comment", "at"},
"commitments"?: [{…, "status", "turn"}], "complaint"?: {…}}`; QA reads the rating and the commitments.

`huashu export` and `/api/conversations/{id}/export` write it; QA replay reads it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from app.errors import TranscriptError
from app.records import pickled_by_fields
from app.vocab import Channel, Role

ROLES: Final = (Role.AGENT, Role.CUSTOMER, Role.BOT)  # who speaks in a transcript
CHANNELS: Final = tuple(Channel)


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Turn:
    role: str
    text: str
    ts: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"role": self.role, "text": self.text}
        if self.ts is not None:
            data["ts"] = self.ts.isoformat()
        return data


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Transcript:
    id: str
    channel: str = "online"
    turns: tuple[Turn, ...] = ()
    agent: str | None = None
    flow: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    # The transcript starts / ends in the middle of a conversation (an excerpt, a log cut at the edges):
    # QA does not expect the greeting / the closing there. Wire: "partial": {"start": bool, "end": bool}.
    partial_start: bool = False
    partial_end: bool = False
    aftercare: dict[str, Any] = field(default_factory=dict)  # what followed the chat (see the module docstring)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "channel": self.channel}
        if self.agent is not None:
            data["agent"] = self.agent
        if self.flow is not None:
            data["flow"] = self.flow
        if self.partial_start or self.partial_end:
            data["partial"] = {"start": self.partial_start, "end": self.partial_end}
        data["turns"] = [t.to_dict() for t in self.turns]
        if self.aftercare:
            data["aftercare"] = self.aftercare
        return data

    @classmethod
    def from_dict(cls, data: Any) -> Transcript:
        """Validate one interchange object; raises `TranscriptError` naming the offending field."""
        if not isinstance(data, dict):
            raise TranscriptError("a transcript must be a JSON object")
        ident = data.get("id")
        if not isinstance(ident, str | int) or isinstance(ident, bool) or str(ident) == "":
            raise TranscriptError('field "id" must be a non-empty string')
        channel = data.get("channel", "online")
        if channel not in CHANNELS:
            raise TranscriptError(f'field "channel" must be one of {", ".join(CHANNELS)} (got {channel!r})')
        for name in ("agent", "flow"):
            if data.get(name) is not None and not isinstance(data[name], str):
                raise TranscriptError(f'field "{name}" must be a string')
        partial = data.get("partial", {})
        if not isinstance(partial, dict) or set(partial) - {"start", "end"} or not all(
            isinstance(v, bool) for v in partial.values()
        ):
            raise TranscriptError('field "partial" must be an object {"start": true|false, "end": true|false}')
        raw_turns = data.get("turns")
        if not isinstance(raw_turns, list):
            raise TranscriptError('field "turns" must be a list')
        turns = []
        for index, raw in enumerate(raw_turns):
            where = f"turns[{index}]"
            if not isinstance(raw, dict):
                raise TranscriptError(f"{where} must be an object")
            role, text = raw.get("role"), raw.get("text")
            if role not in ROLES:
                raise TranscriptError(f'{where}.role must be one of {", ".join(ROLES)} (got {role!r})')
            if not isinstance(text, str):
                raise TranscriptError(f"{where}.text must be a string")
            ts = raw.get("ts")
            parsed_ts: datetime | None = None
            if ts is not None:
                try:
                    parsed_ts = datetime.fromisoformat(ts) if isinstance(ts, str) else None
                except ValueError:
                    parsed_ts = None
                if parsed_ts is None:
                    raise TranscriptError(f"{where}.ts must be an ISO 8601 timestamp (got {ts!r})")
            turns.append(Turn(role, text, parsed_ts))
        return cls(
            id=str(ident), channel=channel, turns=tuple(turns), agent=data.get("agent"), flow=data.get("flow"),
            partial_start=partial.get("start", False), partial_end=partial.get("end", False),
            aftercare=_aftercare(data.get("aftercare"), len(turns)),
        )


def _aftercare(value: Any, turns: int) -> dict[str, Any]:
    """The `aftercare` object, checked where QA relies on it (the rating's score, each commitment's turn and status)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TranscriptError('field "aftercare" must be an object')
    rating = value.get("rating")
    if rating is not None and (not isinstance(rating, dict) or rating.get("score") not in range(1, 6)
                               or isinstance(rating.get("score"), bool)):
        raise TranscriptError('aftercare.rating must be an object with "score" 1-5')
    commitments = value.get("commitments", [])
    if not isinstance(commitments, list):
        raise TranscriptError('aftercare.commitments must be a list')
    for index, item in enumerate(commitments):
        where = f"aftercare.commitments[{index}]"
        if not isinstance(item, dict):
            raise TranscriptError(f"{where} must be an object")
        turn = item.get("turn")
        if turn is not None and (not isinstance(turn, int) or isinstance(turn, bool) or not 0 <= turn < turns):
            raise TranscriptError(f"{where}.turn must be the index of one of the turns (0-{turns - 1})")
        if item.get("status") not in ("open", "overdue", "done"):
            raise TranscriptError(f'{where}.status must be "open", "overdue" or "done"')
    return value


@dataclass(frozen=True, slots=True)
class LineError:
    """A malformed input line: reported with its number and skipped, never aborting the batch."""

    line: int
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "error": self.message}


def read_jsonl(lines: Iterable[str]) -> Iterator[Transcript | LineError]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield Transcript.from_dict(json.loads(line))
        except json.JSONDecodeError as exc:
            yield LineError(number, f"invalid JSON: {exc.msg} (column {exc.colno})")
        except TranscriptError as exc:
            yield LineError(number, str(exc))
