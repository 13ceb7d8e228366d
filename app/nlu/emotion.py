"""Emotion of a message from a weighted lexicon with negation, intensifiers and punctuation heat.

Evidence adds up per class: `negative` (dissatisfaction), `angry` (insults, curses, threats to
escalate: 12315, 曝光, 投诉你们), `positive` (thanks, praise). A negator in front flips positive to
negative ("不满意" is also listed whole) and cancels negative ("不麻烦"); intensifiers (太, 非常)
multiply the next phrase; "!!!" and "???" add heat. `angry` needs hostility or a lot of heated
dissatisfaction, so that a plain complaint stays `negative`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final, NamedTuple

from app.nlu.lexicon import Match, PhraseMatcher
from app.nlu.resources import DataError

ANGRY_THRESHOLD: Final = 2.5  # hostility evidence for `angry`
HEATED_NEGATIVE_THRESHOLD: Final = 4.0  # dissatisfaction + heat that also counts as `angry`
MIN_EVIDENCE: Final = 1.0  # below this a message is `neutral`
MODIFIER_REACH: Final = 1  # characters allowed between a negator/intensifier and its phrase ("非常的满意")
_SCORE_SCALE: Final = 3.0  # evidence → score: 1 - exp(-evidence / scale)

_EVALUATIVE: Final = ("negative", "angry", "threat", "positive")
_BREAKS: Final = frozenset(" ,.!?;:~、。…")


class Emotion(NamedTuple):
    """An EMOTIONS label and its strength in [0, 1] (0 for neutral)."""

    label: str
    score: float


class EmotionDetector:
    """Scores a normalised message against the emotion lexicon."""

    def __init__(self, lexicon: Mapping[str, Any]) -> None:
        table: dict[str, tuple[str, float]] = {}
        for kind in _EVALUATIVE:
            for phrase, weight in (lexicon.get(kind) or {}).items():
                _add(table, phrase, (kind, float(weight)))
        for phrase, factor in (lexicon.get("intensifiers") or {}).items():
            _add(table, phrase, ("intensifier", float(factor)))
        for phrase in lexicon.get("negators") or []:
            _add(table, phrase, ("negator", 0.0))
        for phrase in lexicon.get("neutral") or []:
            _add(table, phrase, ("neutral", 0.0))
        self.phrases: dict[str, tuple[str, float]] = table
        self._matcher = PhraseMatcher(table)
        self._exclamation = float(lexicon.get("exclamation_weight", 0.8))
        self._question = float(lexicon.get("question_weight", 0.4))
        self._cap = float(lexicon.get("punctuation_cap", 3.0))

    def detect(self, normalized: str) -> Emotion:
        """The emotion of `normalized` (output of `Normalizer`: "！" is already "!")."""
        return self.judge(normalized, self._matcher.find(normalized))

    def judge(self, normalized: str, matches: list[Match[tuple[str, float]]]) -> Emotion:
        """The emotion, given this lexicon's matches in `normalized` (see `LexiconSet`)."""
        negative = hostile = positive = 0.0
        factor = 1.0
        negated = False
        modifier_end = -MODIFIER_REACH - 1
        for match in matches:
            kind, weight = match.value
            gap = match.start - modifier_end
            if gap > MODIFIER_REACH or (gap > 0 and normalized[modifier_end:match.start] in _BREAKS):
                factor, negated = 1.0, False
            if kind == "intensifier":
                factor *= weight
                modifier_end = match.end
                continue
            if kind == "negator":
                negated = not negated
                modifier_end = match.end
                continue
            if kind == "positive":
                if negated:
                    negative += weight * factor
                else:
                    positive += weight * factor
            elif kind == "negative":
                if not negated:
                    negative += weight * factor
            elif kind in ("angry", "threat"):
                hostile += weight * factor
            factor, negated = 1.0, False
            modifier_end = -MODIFIER_REACH - 1
        heat = self._heat(normalized)
        if hostile >= ANGRY_THRESHOLD or negative + heat >= HEATED_NEGATIVE_THRESHOLD:
            return Emotion("angry", _score(hostile + negative + heat))
        if negative > 0 or hostile > 0:
            negative += heat + hostile
        elif positive == 0:
            negative += heat / 2  # "!!!" alone is agitation, weakly
        if negative >= MIN_EVIDENCE and negative >= positive:
            return Emotion("negative", _score(negative))
        if positive >= MIN_EVIDENCE:
            return Emotion("positive", _score(positive))
        return Emotion("neutral", 0.0)

    def _heat(self, text: str) -> float:
        if "!" not in text and "?" not in text:
            return 0.0
        exclamations = max(0, text.count("!") - 1) * self._exclamation
        questions = max(0, text.count("?") - 2) * self._question
        return min(exclamations + questions, self._cap)


def _score(evidence: float) -> float:
    return 1.0 - math.exp(-evidence / _SCORE_SCALE)


def _add(table: dict[str, tuple[str, float]], phrase: object, entry: tuple[str, float]) -> None:
    if isinstance(phrase, bool) or not isinstance(phrase, (str, int)):
        raise DataError(f"emotion_lexicon.yaml: phrase {phrase!r} must be a string (quote yes/no)")
    key = str(phrase).lower()
    if key in table and table[key][0] != entry[0]:
        raise DataError(f"emotion_lexicon.yaml: {key!r} is both {table[key][0]} and {entry[0]}")
    table[key] = entry
