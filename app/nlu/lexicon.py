"""Phrase lookup over normalised text: leftmost-longest, non-overlapping, one pass.

Every rule-based part of the NLU (intent cues, emotion, confirmation, hand-off) is a phrase list in
`data/*.yaml`; this matcher turns such a list into matches fast enough for a per-message budget of
tens of microseconds. Longest-first matters: "不满意" must win over "满意", "扫地机器人" over "机器人".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Generic, NamedTuple, TypeVar

T = TypeVar("T")


class Match(NamedTuple, Generic[T]):
    """One phrase occurrence: `text[start:end] == phrase`."""

    start: int
    end: int
    phrase: str
    value: T


class PhraseMatcher(Generic[T]):
    """Finds the phrases of a lexicon in a text, each mapped to a value (weight, label, …)."""

    def __init__(self, phrases: Mapping[str, T]) -> None:
        by_first: dict[str, list[tuple[str, T]]] = {}
        for phrase, value in phrases.items():
            if phrase:
                by_first.setdefault(phrase[0], []).append((phrase, value))
        for entries in by_first.values():
            entries.sort(key=lambda entry: -len(entry[0]))  # longest first
        self._by_first = by_first
        self._phrases = dict(phrases)

    def __contains__(self, phrase: object) -> bool:
        return phrase in self._phrases

    def get(self, phrase: str) -> T | None:
        """The value of an exact phrase, if it is in the lexicon."""
        return self._phrases.get(phrase)

    def find(self, text: str) -> list[Match[T]]:
        """Leftmost-longest, non-overlapping matches, in text order."""
        by_first = self._by_first
        matches: list[Match[T]] = []
        position = 0
        size = len(text)
        while position < size:
            entries = by_first.get(text[position])
            if entries is not None:
                for phrase, value in entries:
                    if text.startswith(phrase, position):
                        end = position + len(phrase)
                        matches.append(Match(position, end, phrase, value))
                        position = end
                        break
                else:
                    position += 1
            else:
                position += 1
        return matches


def merge_lexicons(sections: Iterable[tuple[Mapping[str, object], T]]) -> dict[str, T]:
    """Flatten several phrase lists into phrase → label; a phrase listed twice is a data defect."""
    merged: dict[str, T] = {}
    for phrases, label in sections:
        for phrase in phrases:
            key = str(phrase)
            if key in merged and merged[key] != label:
                raise ValueError(f"phrase {key!r} is listed as both {merged[key]!r} and {label!r}")
            merged[key] = label
    return merged
