"""Finding forbidden wording (scripts_zh/forbidden.yaml) in agent replies, with a literal gate per entry.

Most entries' patterns allow optional words around a fixed core: "(我|我们)(也|真)?不知道" cannot match
without "不知道". Each entry's cores (strings, at least one of which every match contains) are read off
its compiled pattern once; a reply is searched with an entry's pattern only when one of its cores occurs
in it (a substring test in C). Where no core can be read off (character classes, case folding) the entry
is always searched, so the gate can skip work but never a match. Before the gate, each reply cost one
regex search per entry: ~10% of QA replay time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from re import _constants as sre  # type: ignore[attr-defined]  # the parser re itself uses (3.11+)
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

from app.content.model import ForbiddenPhrase

Cores = frozenset[str]
# Zero-width items: a literal run goes on across them ("(?<!行)不行(?!驶)" still needs "不行").
_ZERO_WIDTH = frozenset({sre.AT, sre.ASSERT, sre.ASSERT_NOT})


class ForbiddenScanner:
    def __init__(self, entries: Sequence[ForbiddenPhrase]) -> None:
        self._gated = tuple((entry, required_cores(entry.pattern)) for entry in entries)

    def matches(self, text: str) -> Iterator[tuple[ForbiddenPhrase, re.Match[str]]]:
        """Every match of every entry in `text`, entries in file order, matches left to right."""
        occurs = text.__contains__
        for entry, cores in self._gated:
            if cores is not None and not any(map(occurs, cores)):  # all in C: no Python frame per core
                continue
            for match in entry.pattern.finditer(text):
                yield entry, match


def required_cores(pattern: re.Pattern[str]) -> Cores | None:
    """Strings of which every match of `pattern` contains at least one; None when that cannot be told."""
    if pattern.flags & re.IGNORECASE:
        return None
    try:
        parsed = sre_parse.parse(pattern.pattern, pattern.flags)
    except Exception:  # noqa: BLE001 - an internal parser we only consult: never gate what it cannot read
        return None
    return _sequence_cores(list(parsed))


def _sequence_cores(items: list[tuple[Any, Any]]) -> Cores | None:
    """The most selective requirement of a sequence: its longest run of plain characters, or the
    requirement of one of its mandatory groups, whichever has the longer shortest string."""
    candidates: list[Cores] = []
    run = ""
    for op, arg in items:
        if op is sre.LITERAL:
            run += chr(arg)
            continue
        if op in _ZERO_WIDTH:
            continue
        if run:
            candidates.append(frozenset({run}))
            run = ""
        inner: Cores | None = None
        if op is sre.SUBPATTERN:
            inner = _sequence_cores(list(arg[-1]))
        elif op is sre.BRANCH:
            alternatives = [_sequence_cores(list(branch)) for branch in arg[1]]
            if all(alternative is not None for alternative in alternatives):
                inner = frozenset().union(*alternatives)  # type: ignore[arg-type]
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT) and arg[0] >= 1:
            inner = _sequence_cores(list(arg[2]))
        if inner:
            candidates.append(inner)
    if run:
        candidates.append(frozenset({run}))
    if not candidates:
        return None
    return max(candidates, key=lambda cores: min(map(len, cores)))
