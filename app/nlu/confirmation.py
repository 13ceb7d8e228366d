"""Is the message a yes, a no, or neither? Answers to the engine's confirmation questions.

The first clause decides ("对，我要退货" is yes, "不是，我要换货" is no). A clause made entirely of
answer phrases and fillers ("嗯嗯好的谢谢") takes their answer; a clause that merely starts with a
firm answer ("是的我要退货") keeps it; questions ("对吗", "是不是") and hedges ("不是很清楚")
are unclear; a few long corrections ("你理解错了") mean no anywhere. "对了" (by the way) and
"不好意思" (sorry) are discourse markers, not answers. "没有了"/"有" answer "还有其他问题吗".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, NamedTuple

from app.nlu.lexicon import Match, PhraseMatcher
from app.nlu.resources import DataError

_BREAK_CHARS: Final = " \t\n,.!?;:~、。…"
_CLAUSE_BREAK: Final = re.compile(r"[\s,.!?;:~、。…]+")
_QUESTION_ENDINGS: Final = ("吗", "么", "嘛?")
_ANSWERS: Final = ("yes", "no", "unclear")


class Confirmation(NamedTuple):
    """The answer, and whether the message is nothing but an answer ("好的", "嗯嗯对") — such a
    bare acknowledgement carries no content intent."""

    answer: str
    bare: bool


class ConfirmationDetector:
    """Classifies a normalised message as `yes`, `no` or `unclear`."""

    def __init__(self, lexicon: Mapping[str, Any]) -> None:
        table: dict[str, str] = {}
        for kind in (*_ANSWERS, "fillers", "discourse"):
            for phrase in _phrases(lexicon, kind):
                if table.get(phrase, kind) != kind:
                    raise DataError(f"confirmation.yaml: {phrase!r} is both {table[phrase]} and {kind}")
                table[phrase] = kind
        anywhere_no = sorted(_phrases(lexicon, "anywhere_no"), key=len, reverse=True)
        self._anywhere_no = re.compile("|".join(map(re.escape, anywhere_no))) if anywhere_no else None
        self.phrases = table
        self._matcher = PhraseMatcher(table)
        # An answer starts the message (after punctuation); most content messages start with a
        # character no answer phrase starts with and are settled without a scan.
        self._first_chars = frozenset(phrase[0] for phrase in table)
        leading = lexicon.get("leading") or {}
        self._leading = tuple(
            sorted(((p, answer) for answer in ("yes", "no") for p in _phrases(leading, answer)),
                   key=lambda item: -len(item[0]))
        )

    def detect(self, normalized: str) -> Confirmation:
        """The answer (one of CONFIRMATIONS) and whether the message is only that answer."""
        if self._anywhere_no is not None and self._anywhere_no.search(normalized):
            return Confirmation("no", False)
        first = normalized.lstrip(_BREAK_CHARS)[:1]
        if not first or first not in self._first_chars:
            return _UNCLEAR
        matches = self._matcher.find(normalized)
        clauses = _clauses(normalized)
        for index, (start, end, asked) in enumerate(clauses):
            inside = [m for m in matches if start <= m.start < end]
            if _covers(inside, start, end):
                answers = [m.value for m in inside if m.value != "fillers"]
                if not answers and not asked:
                    continue  # "谢谢，没有了": a courtesy clause defers to the next one
                if not answers or asked or "discourse" in answers or "unclear" in answers:
                    return _UNCLEAR
                # "嗯不是": the last answer is the considered one.
                return Confirmation(answers[-1], self._only_answers(clauses[index + 1:], matches))
            if asked or (inside and inside[0].start == start and inside[0].value == "discourse"):
                return _UNCLEAR
            clause = normalized[start:end]
            for phrase, answer in self._leading:
                if clause.startswith(phrase):
                    return Confirmation(answer, False)
            return _UNCLEAR
        return _UNCLEAR

    @staticmethod
    def _only_answers(clauses: list[tuple[int, int, bool]], matches: list[Match[str]]) -> bool:
        """True when these clauses hold nothing but answers and courtesies ("好的，谢谢")."""
        for start, end, asked in clauses:
            inside = [m for m in matches if start <= m.start < end]
            if asked or not _covers(inside, start, end) or any(m.value == "discourse" for m in inside):
                return False
        return True


_UNCLEAR: Final = Confirmation("unclear", False)


def _clauses(text: str) -> list[tuple[int, int, bool]]:
    """Spans of the non-empty clauses, each with whether it is asked as a question."""
    found: list[tuple[int, int, bool]] = []
    position = 0
    for match in _CLAUSE_BREAK.finditer(text):
        if match.start() > position:
            asked = "?" in match.group(0) or text.endswith(_QUESTION_ENDINGS, position, match.start())
            found.append((position, match.start(), asked))
        position = match.end()
    if position < len(text):
        found.append((position, len(text), text.endswith(_QUESTION_ENDINGS, position)))
    return found


def _covers(matches: list[Match[str]], start: int, end: int) -> bool:
    """True when the matches tile text[start:end] with no gap."""
    position = start
    for match in matches:
        if match.start != position:
            return False
        position = match.end
    return position == end


def _phrases(section: Mapping[str, Any], key: str) -> list[str]:
    if key not in section:
        raise DataError(f"confirmation.yaml: missing {key!r} (quote the keys \"yes\" and \"no\")")
    values = section[key] or []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise DataError(f"confirmation.yaml: {key!r} must be a list of strings (quote yes/no/ok)")
    return [v.lower() for v in values]
