"""Where transcripts come from: files in the interchange format (JSON Lines) or the JDDC TSV export.

The importer is picked by `--input-format` or else by the file's extension (`.tsv`/`.txt` → jddc,
anything else → jsonl). Bad lines come out as `InputError`s naming file and line; a batch never stops.
Input is read as bytes and each line decoded on its own, so one line that is not UTF-8 is one error and the
lines after it are still read.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

from app.qa.jddc import read_jddc
from app.qa.model import InputError
from app.records import pickled_by_fields
from app.transcripts import LineError, Transcript, read_jsonl

FORMATS: Final = ("jsonl", "jddc")
STDIN: Final = "-"
_JDDC_SUFFIXES: Final = frozenset({".tsv", ".txt"})


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Item:
    """One transcript and where it came from (`file:line` of its first line)."""

    transcript: Transcript
    source: str


def format_of(path: Path, requested: str | None = None) -> str:
    if requested is not None:
        if requested not in FORMATS:
            raise ValueError(f"unknown input format {requested!r}; use one of {', '.join(FORMATS)}")
        return requested
    return "jddc" if path.suffix.lower() in _JDDC_SUFFIXES else "jsonl"


def decode_lines(lines: Iterable[bytes]) -> Iterator[str | LineError]:
    """Each line decoded as UTF-8 on its own; a line that is not UTF-8 becomes a `LineError` in its place."""
    for number, raw in enumerate(lines, start=1):
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            # exc.start is the 0-based offset of the first bad byte in the line; people count from 1.
            why = f"not UTF-8 text: {exc.reason} (byte {exc.start + 1}); save the file as UTF-8"
            yield LineError(number, why)


def parse_lines(lines: Iterable[str | LineError], fmt: str, name: str) -> Iterator[Item | InputError]:
    """Transcripts and errors from the lines of one input, in order; a `LineError` line (`decode_lines`) is
    reported in its place."""
    if fmt == "jddc":
        for entry in read_jddc(lines):
            if isinstance(entry, LineError):
                yield InputError(name, entry.line, entry.message)
            else:
                yield Item(entry, f"{name}:{entry.meta.get('line', 0)}")
        return
    for number, line in enumerate(lines, start=1):
        if isinstance(line, LineError):
            yield InputError(name, number, line.message)
            continue
        for parsed in read_jsonl((line,)):  # one line at a time, so each transcript knows its line
            yield InputError(name, number, parsed.message) if isinstance(parsed, LineError) else Item(parsed, f"{name}:{number}")


def read_file(path: Path, fmt: str | None = None) -> Iterator[Item | InputError]:
    """Stream one file's transcripts and errors; an unreadable file is one error, not an exception.

    `-` reads standard input (JSON Lines unless `fmt` says otherwise): `huashu export | huashu qa replay -`.
    """
    if str(path) == STDIN:
        yield from parse_lines(decode_lines(sys.stdin.buffer), fmt or "jsonl", "<stdin>")
        return
    try:
        handle: BinaryIO = path.open("rb")
    except OSError as exc:
        yield InputError(str(path), 0, f"cannot read file: {exc.strerror or exc}")
        return
    with handle:
        yield from parse_lines(decode_lines(handle), format_of(path, fmt), str(path))


def read_files(paths: Iterable[Path], fmt: str | None = None) -> Iterator[Item | InputError]:
    for path in paths:
        yield from read_file(path, fmt)


def customer_turn_texts(path: Path, wanted: AbstractSet[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """The text of each wanted (session, turn index) that is a customer turn of the transcripts in `path`
    (either format); bad lines are passed over, as a labelled file's own lines report what is missing."""
    return customer_texts((item.transcript for item in read_file(path) if isinstance(item, Item)), wanted)


def customer_texts(transcripts: Iterable[Transcript], wanted: AbstractSet[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """The text of each wanted (session, turn index) that is a customer turn of `transcripts`."""
    sessions = {session for session, _ in wanted}
    texts: dict[tuple[str, int], str] = {}
    for transcript in transcripts:
        if transcript.id in sessions:
            for index, turn in enumerate(transcript.turns):
                if (transcript.id, index) in wanted and turn.role == "customer":
                    texts[(transcript.id, index)] = turn.text
    return texts


def transcripts_of(path: Path) -> tuple[list[Transcript], list[InputError]]:
    """Every transcript of a file (either format) and the bad lines met on the way."""
    transcripts: list[Transcript] = []
    errors: list[InputError] = []
    for item in read_file(path):
        if isinstance(item, Item):
            transcripts.append(item.transcript)
        else:
            errors.append(item)
    return transcripts, errors
