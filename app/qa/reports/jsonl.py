"""JSON Lines: one object per transcript (`Assessment.to_dict`), skipped input lines as `{"error", "source", "line"}`."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TextIO

from app.qa.model import Assessment, InputError


def to_line(entry: Assessment | InputError) -> str:
    return json.dumps(entry.to_dict(), ensure_ascii=False)


def write_jsonl(entries: Iterable[Assessment | InputError], out: TextIO) -> None:
    out.writelines(to_line(entry) + "\n" for entry in entries)
