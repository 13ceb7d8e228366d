"""Small files the QA tests write: a JDDC chat log and JSON Lines gold files."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path


def write_jddc_log(path: Path, rows: Iterable[Sequence[str]]) -> Path:
    """(session, sender, text) rows in the published JDDC format (session, customer, sender, 2 flags, SKU, text);
    sender "0" is the customer, "1" the agent, and "!@@@!" inside a text joins two turns."""
    path.write_text("".join(f"{session}\tU1\t{sender}\t0\t0\tnan\t{text}\n" for session, sender, text in rows),
                    encoding="utf-8")
    return path


def write_jsonl(path: Path, records: Iterable[Mapping[str, object]]) -> Path:
    path.write_text("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records), encoding="utf-8")
    return path
