"""Confirmation: yes, no or unclear, as answers to the engine's questions."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from app.nlu.confirmation import ConfirmationDetector
from app.nlu.normalize import Normalizer
from app.nlu.resources import DataError

Answer = Callable[[str], str]


@pytest.fixture
def answer(confirmation: ConfirmationDetector, normalizer: Normalizer) -> Answer:
    """Factory: the answer to a raw message."""
    return lambda text: confirmation.detect(normalizer(text)).answer


@pytest.mark.parametrize("text", [
    "对", "对的", "是的", "是", "没错", "嗯", "嗯嗯", "嗯对", "是这样", "是这样的", "可以", "好的", "好", "行",
    "正确", "OK", "ok的", "对对对", "没错没错", "好嘞", "确认", "没问题", "嗯，好的", "是的是的", "對的",
])
def test_affirmations_are_yes(answer: Answer, text: str) -> None:
    assert answer(text) == "yes"


@pytest.mark.parametrize("text", [
    "不对", "不是", "错了", "不是这个意思", "你理解错了", "不是这样", "不是的", "不对不对", "搞错了", "说错了",
    "不可以", "不行", "不用了", "不需要", "嗯不是", "不是這樣",
])
def test_denials_are_no(answer: Answer, text: str) -> None:
    assert answer(text) == "no"


@pytest.mark.parametrize("text", [
    "不是很清楚", "不太清楚", "不知道", "不确定", "说不好", "好像是吧", "对不对", "是不是", "对吗?", "是吗", "可以吗",
    "我要退货", "这个手机多少钱", "", "谢谢", "不好意思", "对了，我还想问一下发票",
])
def test_hedges_questions_and_content_are_unclear(answer: Answer, text: str) -> None:
    assert answer(text) == "unclear"


@pytest.mark.parametrize(("text", "expected"), [
    ("没有了", "no"), ("没了", "no"), ("不用了", "no"), ("没有了，谢谢", "no"), ("暂时没有了", "no"),
    ("没有其他问题了", "no"), ("木有了", "no"),
    ("有", "yes"), ("有的", "yes"), ("还有", "yes"), ("还有一个问题", "yes"), ("还有个问题想问", "yes"),
])
def test_answers_to_anything_else_question(answer: Answer, text: str, expected: str) -> None:
    assert answer(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("对，我要退货", "yes"),
    ("是的我要退货", "yes"),
    ("不是，我要换货", "no"),
    ("不对，订单号是123456789012", "no"),
    ("谢谢，没有了，再见", "no"),  # a courtesy clause defers to the next one
])
def test_first_clause_decides(answer: Answer, text: str, expected: str) -> None:
    assert answer(text) == expected


def test_correction_anywhere_is_no(answer: Answer) -> None:
    assert answer("我刚才说的不是这个意思") == "no"


@pytest.mark.parametrize("text", ["没有收到货", "有人吗", "不好用"])
def test_words_that_merely_start_like_an_answer_are_unclear(answer: Answer, text: str) -> None:
    assert answer(text) == "unclear"


@pytest.mark.parametrize(("text", "bare"), [
    ("好的", True), ("嗯嗯，好的", True), ("好的，谢谢", True), ("对，我要退货", False), ("我要退货", False),
])
def test_bare_marks_messages_that_are_only_an_answer(confirmation: ConfirmationDetector,
                                                      normalizer: Normalizer, text: str, bare: bool) -> None:
    assert confirmation.detect(normalizer(text)).bare is bare


def test_yes_and_no_keys_must_be_quoted_in_yaml() -> None:
    with pytest.raises(DataError, match="quote"):
        ConfirmationDetector({True: ["对"], False: ["不"], "unclear": [], "fillers": [],  # type: ignore[dict-item]
                              "discourse": [], "anywhere_no": []})
