"""Draw customer turns from transcripts for a person to label (`huashu nlu sample`).

A business teaches Huashu its domain from its own chats: draw sessions at random (a fixed seed, so a
sample can be drawn again), take the first customer turns of each (where the request is made), label
them by the pack's conventions, and measure the pack on them (`huashu nlu evaluate FILE --data CORPUS`).
Sessions an earlier labelled set already holds are left out, so a new set never overlaps an old one.
The lines carry no model output: whoever labels them should not see what the model thinks.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

from app.nlu.resources import labelled_lines
from app.transcripts import Transcript


def labelled_sessions(path: str | Path) -> set[str]:
    """The sessions a labelled JSON-lines file refers to (any labels: intents, stages …)."""
    return {record["session"] for _, record in labelled_lines(path)
            if isinstance(record, dict) and isinstance(record.get("session"), str)}


def sample_turns(transcripts: Iterable[Transcript], *, sessions: int, turns: int, seed: int,
                 exclude: AbstractSet[str] = frozenset(), split: str | None = None) -> list[dict[str, Any]]:
    """`{"session", "turn", "text"}` (and `"split"` when given) for the first `turns` customer turns of
    `sessions` transcripts drawn with `seed` from those not in `exclude`, in draw order."""
    customer_turns: dict[str, list[tuple[int, str]]] = {}
    for transcript in transcripts:
        if transcript.id in exclude or transcript.id in customer_turns:
            continue
        said = [(index, turn.text) for index, turn in enumerate(transcript.turns)
                if turn.role == "customer" and turn.text.strip()]
        if said:
            customer_turns[transcript.id] = said[:turns]
    drawn = sorted(customer_turns)
    random.Random(seed).shuffle(drawn)
    lines = []
    for session in drawn[:sessions]:
        for index, text in customer_turns[session]:
            line: dict[str, Any] = {"session": session, "turn": index, "text": text}
            if split is not None:
                line["split"] = split
            lines.append(line)
    return lines
