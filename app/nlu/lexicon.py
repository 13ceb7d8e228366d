"""Phrase lookup over normalised text: leftmost-longest, non-overlapping, one pass over a trie.

Every rule-based part of the NLU (intent cues, emotion, confirmation, hand-off) is a phrase list in
`data/*.yaml`; this matcher turns such a list into matches fast enough for a per-message budget of
tens of microseconds (one dict lookup per character step). Longest-first matters: "不满意" must win
over "满意", "扫地机器人" over "机器人".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Generic, NamedTuple, TypeVar

from app.nlu.resources import DataError

T = TypeVar("T")

# Trie nodes are dicts from a character to the next node; a phrase's value sits under this key,
# which no character can collide with.
_END: Final = ""


class Match(NamedTuple, Generic[T]):
    """One phrase occurrence: `text[start:end] == phrase`."""

    start: int
    end: int
    phrase: str
    value: T


class PhraseMatcher(Generic[T]):
    """Finds the phrases of a lexicon in a text, each mapped to a value (weight, label, …)."""

    def __init__(self, phrases: Mapping[str, T]) -> None:
        root: dict[str, Any] = {}
        for phrase, value in phrases.items():
            if not phrase:
                raise DataError("empty phrase in lexicon")
            node = root
            for char in phrase:
                node = node.setdefault(char, {})
            node[_END] = value
        self._root = root

    def find(self, text: str) -> list[Match[T]]:
        """Leftmost-longest, non-overlapping matches, in text order."""
        root = self._root
        matches: list[Match[T]] = []
        position = 0
        size = len(text)
        while position < size:
            node = root.get(text[position])
            if node is None:
                position += 1
                continue
            end = -1
            value: Any = None
            cursor = position + 1
            while True:
                if _END in node:
                    end = cursor
                    value = node[_END]
                if cursor >= size:
                    break
                node = node.get(text[cursor])
                if node is None:
                    break
                cursor += 1
            if end < 0:
                position += 1
            else:
                matches.append(Match(position, end, text[position:end], value))
                position = end
        return matches


class LexiconSet:
    """Several lexicons in one trie, scanned once per message.

    Each lexicon gets exactly the matches its own `PhraseMatcher` would find (leftmost-longest,
    non-overlapping), but the text is walked once instead of once per lexicon: the analyzer runs
    four lexicons over every message, and the walk is most of their cost.
    """

    def __init__(self, lexicons: list[Mapping[str, Any]]) -> None:
        root: dict[str, Any] = {}
        for index, phrases in enumerate(lexicons):
            for phrase, value in phrases.items():
                if not phrase:
                    raise DataError("empty phrase in lexicon")
                node = root
                for char in phrase:
                    node = node.setdefault(char, {})
                node[_END] = (*node.get(_END, ()), (index, value))
        self._root = root
        self._count = len(lexicons)

    def find(self, text: str) -> list[list[Match[Any]]]:
        """Per lexicon (in construction order), its leftmost-longest non-overlapping matches."""
        child = self._root.get
        results: list[list[Match[Any]]] = [[] for _ in range(self._count)]
        free = [0] * self._count  # per lexicon: where its next match may start
        size = len(text)
        for position, char in enumerate(text):
            node = child(char)
            if node is None:
                continue
            found: list[tuple[int, Any]] = []
            cursor = position + 1
            while node is not None:
                if _END in node:
                    found.append((cursor, node[_END]))
                if cursor == size:
                    break
                node = node.get(text[cursor])
                cursor += 1
            # Deepest first: once a lexicon takes its longest phrase here, `free` bars the shorter ones.
            for end, ends in reversed(found):
                for index, value in ends:
                    if position >= free[index]:
                        results[index].append(Match(position, end, text[position:end], value))
                        free[index] = end
        return results
