"""Hand-off: explicit requests for a human agent."""

from __future__ import annotations

import pytest

from app.nlu.handoff import HandoffDetector
from app.nlu.normalize import Normalizer


@pytest.mark.parametrize("text", [
    "转人工", "人工", "人工！！", "人工客服", "我要转人工", "我要找人工客服", "找真人", "我要跟人说话", "我要跟真人说话",
    "叫你们经理来", "找你们领导", "机器人听不懂，换人", "不要机器人，要真人", "轉人工", "人工人工",
    "有人工吗", "能不能让人工来处理",
])
def test_requests_for_a_human_are_handoff(handoff: HandoffDetector, normalizer: Normalizer,
                                          text: str) -> None:
    assert handoff.detect(normalizer(text)).requested


@pytest.mark.parametrize("text", [
    "这个扫地机器人能拖地吗", "你是机器人吗", "你是不是机器人", "你是真人吗", "是人工吗", "安装人工费多少", "客服你好", "我要投诉那个客服", "你好", "人工智能音箱有货吗",
])
def test_other_mentions_are_not_handoff(handoff: HandoffDetector, normalizer: Normalizer, text: str) -> None:
    assert not handoff.detect(normalizer(text)).requested


@pytest.mark.parametrize("text", ["不用转人工了", "不需要人工", "别转人工"])
def test_declined_handoff_is_recorded_as_declined(handoff: HandoffDetector, normalizer: Normalizer,
                                                  text: str) -> None:
    verdict = handoff.detect(normalizer(text))
    assert (verdict.requested, verdict.declined) == (False, True)


def test_negation_does_not_reach_across_a_clause(handoff: HandoffDetector, normalizer: Normalizer) -> None:
    assert handoff.detect(normalizer("不要，转人工")).requested
