"""Word segmentation: jieba's dictionary and algorithm, with the domain vocabulary, at engine speed.

We own a `jieba.Tokenizer` (never the global one) and load `data/domain_dict.txt` into it. Its
no-HMM cut (`Tokenizer.cut(text, HMM=False)`) spends most of its ~35 µs in generator plumbing, so
`Segmenter` re-implements the same maximum-probability DAG route over the tokenizer's own `FREQ`
table in one tight loop (~10 µs). `tests/nlu/test_segment.py` checks the two agree on every training
message. JDDC placeholders such as `[订单x]` are kept as single tokens.
"""

from __future__ import annotations

import logging
import re
from math import log
from typing import Final

import jieba

from app.nlu.resources import read_text

_DOMAIN_DICT: Final = "domain_dict.txt"
# jieba's own block pattern (re_han_default): runs of CJK, Latin, digits and a few joiners.
_BLOCK = re.compile(r"([\u4E00-\u9FD5a-zA-Z0-9+#&\._%\-]+)")
PLACEHOLDER: Final = re.compile(r"(\[[\u4e00-\u9fff]{1,6}x\])")


def build_tokenizer() -> jieba.Tokenizer:
    """A private jieba tokenizer with the default dictionary plus the domain terms."""
    jieba.setLogLevel(logging.WARNING)  # jieba logs its dictionary loading to stderr at DEBUG
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for line in read_text(_DOMAIN_DICT).splitlines():
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        freq = int(parts[1]) if len(parts) > 1 else None
        tokenizer.add_word(parts[0], freq, parts[2] if len(parts) > 2 else None)
    return tokenizer


class Segmenter:
    """Cuts normalised text into words; whitespace is dropped, punctuation kept as jieba keeps it."""

    def __init__(self, tokenizer: jieba.Tokenizer | None = None) -> None:
        self.tokenizer = tokenizer if tokenizer is not None else build_tokenizer()
        self._freq: dict[str, int] = self.tokenizer.FREQ
        self._log_total = log(self.tokenizer.total)

    def segment(self, text: str) -> tuple[str, ...]:
        """The tokens of `text`, in order."""
        out: list[str] = []
        if "[" in text:
            for index, piece in enumerate(PLACEHOLDER.split(text)):
                if index & 1:
                    out.append(piece)
                elif piece:
                    self._segment_plain(piece, out)
        else:
            self._segment_plain(text, out)
        return tuple(out)

    def _segment_plain(self, text: str, out: list[str]) -> None:
        # re.split with one group: odd indices are word blocks, even ones punctuation/space runs.
        for index, block in enumerate(_BLOCK.split(text)):
            if index & 1:
                self._cut_block(block, out)
            else:
                out.extend(ch for ch in block if not ch.isspace())

    def _cut_block(self, block: str, out: list[str]) -> None:
        """jieba's `__cut_DAG_NO_HMM`: best route right-to-left, then glue single Latin/digit chars."""
        freq = self._freq
        log_total = self._log_total
        size = len(block)
        score = [0.0] * (size + 1)
        ends = [0] * (size + 1)
        for start in range(size - 1, -1, -1):
            best = 0.0
            best_end = -1
            end = start + 1
            frag = block[start]
            while True:
                count = freq.get(frag)
                if count is None:  # not even a prefix of a dictionary word
                    break
                if count:
                    value = log(count) - log_total + score[end]
                    if best_end < 0 or value >= best:  # ties go to the longer word, as in jieba
                        best = value
                        best_end = end
                if end >= size:
                    break
                end += 1
                frag = block[start:end]
            if best_end < 0:  # unknown character: jieba scores it as frequency 1
                best = -log_total + score[start + 1]
                best_end = start + 1
            score[start] = best
            ends[start] = best_end
        position = 0
        latin = ""
        while position < size:
            end = ends[position]
            word = block[position:end]
            if end - position == 1 and word.isascii() and word.isalnum():
                latin += word
            else:
                if latin:
                    out.append(latin)
                    latin = ""
                out.append(word)
            position = end
        if latin:
            out.append(latin)
