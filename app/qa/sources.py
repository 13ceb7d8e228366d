"""Where transcripts come from: files in the interchange format (JSON Lines) or the JDDC TSV export.

The importer is picked by `--input-format` or else by the file's extension (`.tsv`/`.txt` → jddc,
anything else → jsonl). Bad lines come out as `InputError`s naming file and line; a batch never stops.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TextIO

from app.qa.jddc import read_jddc
from app.qa.model import InputError
from app.transcripts import LineError, Transcript, read_jsonl

FORMATS: Final = ("jsonl", "jddc")
STDIN: Final = "-"
_JDDC_SUFFIXES: Final = frozenset({".tsv", ".txt"})


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


def parse_lines(lines: Iterable[str], fmt: str, name: str) -> Iterator[Item | InputError]:
    """Transcripts and errors from the lines of one input, in order."""
    if fmt == "jddc":
        for entry in read_jddc(lines):
            if isinstance(entry, LineError):
                yield InputError(name, entry.line, entry.message)
            else:
                yield Item(entry, f"{name}:{entry.meta.get('line', 0)}")
        return
    for number, line in enumerate(lines, start=1):
        for parsed in read_jsonl((line,)):  # one line at a time, so each transcript knows its line
            yield InputError(name, number, parsed.message) if isinstance(parsed, LineError) else Item(parsed, f"{name}:{number}")


def read_file(path: Path, fmt: str | None = None) -> Iterator[Item | InputError]:
    """Stream one file's transcripts and errors; an unreadable file is one error, not an exception.

    `-` reads standard input (JSON Lines unless `fmt` says otherwise): `huashu export | huashu qa replay -`.
    """
    if str(path) == STDIN:
        yield from parse_lines(sys.stdin, fmt or "jsonl", "<stdin>")
        return
    try:
        handle: TextIO = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        yield InputError(str(path), 0, f"cannot read file: {exc.strerror or exc}")
        return
    with handle:
        try:
            yield from parse_lines(handle, format_of(path, fmt), str(path))
        except UnicodeDecodeError as exc:
            yield InputError(str(path), 0, f"not UTF-8 text: {exc.reason}")


def read_files(paths: Iterable[Path], fmt: str | None = None) -> Iterator[Item | InputError]:
    for path in paths:
        yield from read_file(path, fmt)
