"""Tagging an agent's message with the script stage(s) it fulfils."""

from __future__ import annotations

import pytest

from app.engine.step import Engine


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        ("您好,很高兴为您服务!我是客服小李", "greeting"),
        ("您的意思是收到的杯子颜色和图片不一样,对吗?", "confirm"),
        ("非常抱歉给您带来了不便", "apology"),
        ("请您稍等,我马上为您查询", "waiting"),
        ("除了这个问题,请问您还有其他需要帮助的吗?", "close-check"),
        ("感谢您的咨询,祝您生活愉快,再见!", "farewell"),
        ("正在为您转接人工客服,请稍候", "hand-off"),
        ("我们的商品支持七天无理由退货,退款会原路退回", "answer"),
        ("嗯", "other"),
    ],
)
def test_agent_message_is_tagged_with_the_stage_it_fulfils(engine: Engine, text: str, stage: str) -> None:
    assert engine.tagger.tag(text).stage == stage


def test_every_stage_in_a_message_is_listed_in_order(engine: Engine) -> None:
    tag = engine.tagger.tag("非常抱歉给您带来不便。您是说订单还没有收到,对吗?")
    assert tag.stages[:1] == ("apology",) and tag.stage == "confirm"


def test_the_phrasing_the_agent_picked_decides_the_stage(engine: Engine) -> None:
    tag = engine.tagger.tag("好的", phrase_id="listen.invite.online", phrase_stage="listen")
    assert (tag.stage, tag.phrase_id) == ("listen", "listen.invite.online")


def test_a_standard_phrasing_said_verbatim_is_recognised(engine: Engine) -> None:
    phrase = engine.content.phrases["close-check.more_help"]
    tag = engine.tagger.tag(phrase.text)
    assert tag.stage == "close-check" and tag.phrase_id == phrase.id and tag.score >= 90
