"""Emotion: neutral, negative, angry or positive, with a strength score."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from app.nlu.emotion import Emotion, EmotionDetector
from app.nlu.normalize import Normalizer
from app.nlu.resources import DataError

Feel = Callable[[str], Emotion]


@pytest.fixture
def feel(emotion: EmotionDetector, normalizer: Normalizer) -> Feel:
    """Factory: the (label, score) of a raw message."""
    return lambda text: emotion.detect(normalizer(text))


@pytest.mark.parametrize("text", [
    "你好，在吗", "我想查一下物流", "发票怎么开", "好的", "这个手机多少钱", "屏幕有点黄", "", "订单号123456789012",
])
def test_plain_requests_are_neutral(feel: Feel, text: str) -> None:
    assert feel(text).label == "neutral"


@pytest.mark.parametrize("text", [
    "我很不满意", "太慢了，好失望", "你们一直推来推去", "真无语", "我要投诉", "等了好久还没到账", "东西坏了",
    "客服一直敷衍", "太坑了",
])
def test_dissatisfaction_is_negative(feel: Feel, text: str) -> None:
    assert feel(text).label == "negative"


@pytest.mark.parametrize("text", [
    "垃圾客服", "你们就是骗子", "气死我了", "再不解决我就打12315", "我要去消协投诉你们", "我要曝光你们",
    "什么破东西", "我真的受够了！！！", "你們的服務太爛了", "太慢了，太差了，非常不满意！！！",
])
def test_insults_threats_and_heated_complaints_are_angry(feel: Feel, text: str) -> None:
    assert feel(text).label == "angry"


@pytest.mark.parametrize("text", ["谢谢", "非常感谢", "很满意", "太好了", "东西不错", "服务很好，点赞", "辛苦了"])
def test_thanks_and_praise_are_positive(feel: Feel, text: str) -> None:
    assert feel(text).label == "positive"


@pytest.mark.parametrize(("text", "label"), [
    ("不满意", "negative"),  # negated positive
    ("一点都不满意", "negative"),
    ("不太好用", "negative"),
    ("不错", "positive"),  # 错 is not a complaint here
    ("不麻烦", "neutral"),  # negated negative
    ("退差价", "neutral"),  # 差 inside 差价 is not "bad"
    ("不好意思", "neutral"),
])
def test_negation_is_handled(feel: Feel, text: str, label: str) -> None:
    assert feel(text).label == label


def test_negation_does_not_cross_a_clause_break(feel: Feel) -> None:
    assert feel("等了一个星期还没到，太过分了").label == "negative"


def test_intensifiers_raise_the_score(feel: Feel) -> None:
    assert feel("非常失望").score > feel("失望").score


def test_exclamations_raise_the_score(feel: Feel) -> None:
    assert feel("太慢了!!!").score > feel("太慢了").score


@pytest.mark.parametrize("text", ["垃圾！！！", "谢谢", "你好", "不满意", "!!!!!!!!!!!!!!!!!!!!!!"])
def test_score_is_within_unit_interval(feel: Feel, text: str) -> None:
    assert 0.0 <= feel(text).score <= 1.0


def test_neutral_has_zero_score(feel: Feel) -> None:
    assert feel("我想查一下物流").score == 0.0


def test_phrase_in_two_classes_is_a_data_defect() -> None:
    with pytest.raises(DataError, match="both"):
        EmotionDetector({"negative": {"差": 1.0}, "positive": {"差": 1.0}})
