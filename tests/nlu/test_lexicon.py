"""Phrase matching: leftmost-longest and non-overlapping, alone or several lexicons at once."""

from __future__ import annotations

import random
from typing import Any

import pytest

from app.nlu.lexicon import LexiconSet, PhraseMatcher
from app.nlu.resources import DataError


def test_longest_phrase_wins() -> None:
    matcher = PhraseMatcher({"满意": "pos", "不满意": "neg", "机器人": "bot", "扫地机器人": "product"})
    assert [(m.phrase, m.value) for m in matcher.find("不满意扫地机器人")] == [("不满意", "neg"), ("扫地机器人", "product")]


def test_matches_do_not_overlap_and_keep_positions() -> None:
    matches = PhraseMatcher({"ab": 1, "bc": 2}).find("xabc")
    assert [(m.start, m.end, m.phrase) for m in matches] == [(1, 3, "ab")]


def test_empty_phrase_is_rejected() -> None:
    with pytest.raises(DataError):
        PhraseMatcher({"": 1})


def test_lexicon_set_equals_one_matcher_per_lexicon() -> None:
    first = {"不": 1, "不满意": 2, "满意": 3, "机器人": 4, "扫地机器人": 5}
    second = {"满意": "x", "人": "y", "不满": "z", "地机": "w"}
    combined = LexiconSet([first, second])
    alone: list[PhraseMatcher[Any]] = [PhraseMatcher(first), PhraseMatcher(second)]
    rng = random.Random(7)
    for _ in range(2000):
        text = "".join(rng.choice("不满意机器人扫地好") for _ in range(rng.randint(0, 16)))
        assert combined.find(text) == [matcher.find(text) for matcher in alone], text
