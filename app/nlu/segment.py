"""Word segmentation: jieba's dictionary and algorithm, with the domain vocabulary, at engine speed.

We own a `jieba.Tokenizer` (never the global one) and load the pack's `domain_dict.txt` into it. Its
no-HMM cut (`Tokenizer.cut(text, HMM=False)`) spends most of its ~35 µs in generator plumbing, so
`Segmenter` re-implements the same maximum-probability DAG route over the tokenizer's own `FREQ`
table in one tight loop (~10 µs). `tests/nlu/test_segment.py` checks the two agree on every labelled
message. JDDC placeholders such as `[订单x]` are kept as single tokens.

The memos filled while cutting hold values of a pure function of the dictionary, so they never
change a result; concurrent use from several threads is safe (dict operations are atomic in
CPython and a lost insert only costs a recomputation).
"""

from __future__ import annotations

import logging
import re
from math import log
from typing import Final

import jieba

DOMAIN_DICT: Final = "domain_dict.txt"  # in a pack's scripts_zh/nlu/
# jieba's own block pattern (re_han_default): runs of CJK, Latin, digits and a few joiners.
_BLOCK = re.compile(r"([\u4E00-\u9FD5a-zA-Z0-9+#&\._%\-]+)")
PLACEHOLDER: Final = re.compile(r"(\[[\u4e00-\u9fff]{1,6}x\])")
# Memo markers (real log-probabilities are negative): a prefix of some word but no word itself, and
# a fragment that is not even a prefix.
_PREFIX_ONLY: Final = 1.0
_ABSENT: Final = 2.0
_NEVER: Final = float("-inf")
_ASCII_ALNUM: Final = re.compile(r"[0-9a-zA-Z]")
_END: Final = "\0"  # pads the last two-character window of a block; never in normalised text
MEMO_LIMIT: Final = 500_000  # fragments remembered before the memo starts over (bounds memory)


def build_tokenizer(domain_dict: str) -> jieba.Tokenizer:
    """A private jieba tokenizer with the default dictionary plus a pack's domain terms
    (`domain_dict.txt`: `word [freq [tag]]` per line)."""
    jieba.setLogLevel(logging.WARNING)  # jieba logs its dictionary loading to stderr at DEBUG
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for line in domain_dict.splitlines():
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        freq = int(parts[1]) if len(parts) > 1 else None
        tokenizer.add_word(parts[0], freq, parts[2] if len(parts) > 2 else None)
    return tokenizer


class Segmenter:
    """Cuts normalised text into words; whitespace is dropped, punctuation kept as jieba keeps it."""

    def __init__(self, tokenizer: jieba.Tokenizer) -> None:
        self.tokenizer = tokenizer
        self._freq: dict[str, int] = self.tokenizer.FREQ
        self._log_total = log(self.tokenizer.total)
        # Memos filled on first sight (bounded by MEMO_LIMIT): fragment → log-probability, and the
        # one-/two-character summary of a position keyed by its first two characters.
        self._memo: dict[str, float] = {}
        self._pairs: dict[str, tuple[float, float, bool]] = {}

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
            elif block:
                out.extend(block.replace(" ", ""))  # each punctuation mark is a token, as in jieba

    def _log_probability(self, fragment: str) -> float:
        """log P(fragment) for a dictionary word, else _PREFIX_ONLY or _ABSENT; memoised.

        jieba's FREQ holds raw counts for ~600k entries; a small memo of the fragments actually seen
        saves the log per candidate and keeps the hot lookups in a small, cache-friendly dict.
        """
        count = self._freq.get(fragment)
        if count is None:
            value = _ABSENT
        elif count:
            value = log(count) - self._log_total
        else:
            value = _PREFIX_ONLY
        if len(self._memo) >= MEMO_LIMIT:
            self._memo.clear()
        self._memo[fragment] = value
        return value

    def _pair(self, pair: str) -> tuple[float, float, bool]:
        """For a position whose next two characters are `pair` (a trailing "\0" marks the block's
        end): log P of the one- and two-character words there (_NEVER if not a word) and whether a
        longer word may start there; memoised.

        Most Chinese words are one or two characters, so one lookup settles most positions.
        """
        one = self._log_probability(pair[0])
        two = self._log_probability(pair) if pair[1] != _END else _ABSENT
        entry = (one if one < 0.0 else _NEVER, two if two < 0.0 else _NEVER, two != _ABSENT)
        if len(self._pairs) >= MEMO_LIMIT:
            self._pairs.clear()
        self._pairs[pair] = entry
        return entry

    def _cut_block(self, block: str, out: list[str]) -> None:
        """jieba's `__cut_DAG_NO_HMM`: best route right-to-left, then glue single Latin/digit chars."""
        if len(block) == 1:  # frequent in chat ("好 的", "[订单x] 到"): nothing to decide
            out.append(block)
            return
        pairs = self._pairs.get
        lookup = self._memo.get
        size = len(block)
        score = [0.0] * (size + 2)
        ends = [0] * (size + 1)
        unknown = -self._log_total
        after_one = after_two = 0.0  # score[start + 1] and score[start + 2], kept in locals
        window = block[-1] + _END
        for start in range(size - 1, -1, -1):
            one, two, longer = pairs(window) or self._pair(window)
            best = one + after_one
            best_end = start + 1
            candidate = two + after_two
            if candidate >= best:  # ties go to the longer word, as in jieba (-inf ties fixed below)
                best = candidate
                best_end = start + 2
            if longer:
                end = start + 3
                while end <= size:
                    value = lookup(block[start:end])
                    if value is None:
                        value = self._log_probability(block[start:end])
                    if value < 0.0:  # a dictionary word (markers are positive)
                        value += score[end]
                        if value >= best:
                            best = value
                            best_end = end
                    elif value == _ABSENT:  # not even a prefix of a dictionary word
                        break
                    end += 1
            if best == _NEVER:  # no dictionary word starts here: one character, scored as frequency 1
                best = unknown + after_one
                best_end = start + 1
            score[start] = best
            ends[start] = best_end
            after_two = after_one
            after_one = best
            window = block[start - 1:start + 1]  # the next position's window (unused after start 0)
        position = 0
        if _ASCII_ALNUM.search(block) is None:  # the common, all-CJK block: no gluing to do
            while position < size:
                end = ends[position]
                out.append(block[position:end])
                position = end
            return
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
