"""Text normalisation: one canonical spelling per message before anything else looks at it.

NFKC folds full-width letters, digits and punctuation to half-width; traditional characters become
simplified (OpenCC `t2s`); Latin is lower-cased and whitespace collapsed. JDDC anonymisation tokens such
as `[订单x]` survive unchanged, so the slot extractor can recognise them.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from importlib import resources

import opencc

# OpenCC's full converter costs ~50 µs per call; most messages contain no traditional character at all.
_PHRASE_CACHE_SIZE = 4096


class Normalizer:
    """Folds a message to its canonical form; build once, call many times."""

    def __init__(self) -> None:
        self._converter = opencc.OpenCC("t2s")
        self._table = self._character_table()
        self._convert_cached = lru_cache(maxsize=_PHRASE_CACHE_SIZE)(self._converter.convert)

    def _character_table(self) -> dict[int, str]:
        """Single-character t2s mapping, computed by OpenCC itself so both paths agree."""
        path = resources.files("opencc").joinpath("dictionary", "TSCharacters.txt")
        table: dict[int, str] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            key = line.split("\t", 1)[0]
            if len(key) != 1:
                continue
            simplified = self._converter.convert(key)
            if simplified != key:
                table[ord(key)] = simplified
        return table

    def to_simplified(self, text: str) -> str:
        """Traditional → simplified; the phrase-aware converter runs only when needed (and is cached)."""
        if text.translate(self._table) == text:
            return text
        # Phrases such as 乾淨 → 干净 need OpenCC's longest-match dictionary, not a per-character table.
        return str(self._convert_cached(text))

    def __call__(self, text: str) -> str:
        """The normalised form of `text` (what `Analysis.normalized` holds)."""
        folded = unicodedata.normalize("NFKC", text)
        folded = self.to_simplified(folded).lower()
        return " ".join(folded.split())
