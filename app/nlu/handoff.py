"""Hand-off detection: does the customer explicitly ask for a human agent?

Cue phrases ("转人工", "叫你们经理来", "机器人听不懂") count unless a negator stands right before
them ("不用转人工"); product names that contain a cue ("扫地机器人", "人工费") shadow it because the
longest phrase wins. A message that is nothing but "人工" (any punctuation aside) counts too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, NamedTuple

from app.nlu.lexicon import Match, PhraseMatcher
from app.nlu.resources import DataError

NEGATION_REACH: Final = 3  # characters between a negator and its cue
_CLAUSE_BREAK: Final = re.compile(r"[\s,.!?;:~、。…]+")


class Handoff(NamedTuple):
    """Whether a human was asked for, and whether one was explicitly declined ("不用转人工")."""

    requested: bool
    declined: bool


class HandoffDetector:
    """Flags explicit requests for a human."""

    def __init__(self, lexicon: Mapping[str, Any]) -> None:
        table: dict[str, str] = {}
        for kind, key in (("cue", "cues"), ("negator", "negators"), ("ignore", "not_handoff")):
            for phrase in lexicon.get(key) or []:
                if not isinstance(phrase, str):
                    raise DataError(f"handoff.yaml: {key} entry {phrase!r} must be a string")
                table[phrase.lower()] = kind
        self.phrases = table
        self._matcher = PhraseMatcher(table)
        self._standalone = frozenset(str(p).lower() for p in lexicon.get("standalone") or [])

    def detect(self, normalized: str) -> Handoff:
        """Whether the message asks for (or declines) a human agent."""
        return self.judge(normalized, self._matcher.find(normalized))

    def judge(self, normalized: str, matches: list[Match[str]]) -> Handoff:
        """The verdict, given this lexicon's matches in `normalized` (see `LexiconSet`)."""
        negator_end = -NEGATION_REACH - 1
        declined = False
        for match in matches:
            if match.value == "negator":
                negator_end = match.end
            elif match.value == "cue":
                if not self._negated(normalized, negator_end, match.start):
                    return Handoff(True, False)
                declined = True
        # Short messages only: "人工" inside a long sentence is already covered by the cues.
        if not declined and len(normalized) <= 12 and any(
            clause in self._standalone for clause in _CLAUSE_BREAK.split(normalized)
        ):
            return Handoff(True, False)
        return Handoff(False, declined)

    @staticmethod
    def _negated(text: str, negator_end: int, cue_start: int) -> bool:
        """A negator counts only close before the cue and within the same clause ("不要，转人工" asks)."""
        gap = cue_start - negator_end
        return 0 <= gap <= NEGATION_REACH and _CLAUSE_BREAK.search(text, negator_end, cue_start) is None
