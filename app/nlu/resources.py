"""Read NLU data: a pack's `scripts_zh/nlu/` folder (domain), and the built-in language resources.

The domain files (intent cues, segmentation dictionary, slot vocabulary) come from the pack. The
language-general Chinese resources (confirmation, emotion, hand-off wording) ship in the package as
`app.nlu.data`, so an installed package finds them without the repository; a pack may override them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Final

from app.content.errors import ContentErrors, YamlSyntaxError
from app.content.yamlio import load_yaml_text, read_text_file

_DATA_PACKAGE = "app.nlu.data"
# Files a pack may omit: the built-in ones are about Chinese, not about any business.
LANGUAGE_FILES: Final = frozenset({"confirmation.yaml", "emotion_lexicon.yaml", "handoff.yaml", "openers.yaml", "question.yaml"})


class DataError(ValueError):
    """A defect in the NLU's package data (lexicons, training split); the message names the file,
    the offending entry and how to fix it. Raised at load time, never while analysing."""


def read_text(name: str) -> str:
    """The UTF-8 text of the package data file `name`."""
    return resources.files(_DATA_PACKAGE).joinpath(name).read_text(encoding="utf-8")


def read_yaml(name: str) -> dict[str, Any]:
    """A YAML mapping from package data; anything but a mapping is a packaging defect."""
    return _mapping(read_text(name), f"{_DATA_PACKAGE}/{name}")


def _mapping(text: str, where: str) -> dict[str, Any]:
    """YAML read the one way all content is read (app/content/yamlio.py: line numbers; only true/false are
    booleans), as a mapping; a syntax error or another shape is a `DataError` naming file and line."""
    try:
        loaded = load_yaml_text(text, where)
    except YamlSyntaxError as exc:
        raise DataError(exc.describe()) from None
    if not isinstance(loaded, dict):
        raise DataError(f"{where}: expected a YAML mapping at the top level")
    return dict(loaded)


def read_jsonl(name: str) -> list[dict[str, Any]]:
    """The records of a JSON-lines file from package data (blank lines skipped)."""
    return [json.loads(line) for line in read_text(name).splitlines() if line.strip()]


def labelled_lines(path: str | Path) -> Iterator[tuple[str, Any]]:
    """(where, decoded JSON) for each non-blank line of a labelled file; `where` is "path:line" for
    messages, and a line that is not JSON raises `DataError` naming it."""
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            yield where, json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where}: invalid JSON ({exc.msg})") from None


@dataclass(frozen=True, slots=True)
class PackData:
    """A pack's NLU folder (`<scripts>/nlu`); the language files fall back to the built-in ones."""

    directory: Path

    def read_text(self, name: str) -> str:
        path = self.directory / name
        if path.is_file():
            try:
                return read_text_file(path)
            except ContentErrors as exc:
                raise DataError("; ".join(defect.describe() for defect in exc.defects)) from None
        if name in LANGUAGE_FILES:
            return read_text(name)
        raise DataError(f"{path}: missing; a pack's scripts_zh/nlu/ must provide {name} (docs/packs.md)")

    def read_yaml(self, name: str) -> dict[str, Any]:
        return _mapping(self.read_text(name), str(self.directory / name))
