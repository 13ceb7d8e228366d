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


# Real phone calls (issue 11): what operators say and the stage it moves the script to.
@pytest.mark.parametrize(
    ("text", "stage"),
    [
        ("不客气哈,您看还有别的需要帮忙的吗", "close-check"),
        ("您是说路由器现在连不上是吧", "confirm"),
        ("您是在营业厅交的还是在网上交的", "confirm"),
        ("喂您好请讲", "greeting"),
        ("你好", "greeting"),
        ("好的那感谢_再_", "farewell"),
        ("好的,马上为您转接人工客服…", "hand-off"),
    ],
)
def test_real_phone_call_phrasings_are_tagged_with_their_stage(engine: Engine, text: str, stage: str) -> None:
    assert engine.tagger.tag(text).stage == stage


def test_a_thanks_for_waiting_opening_greets_waits_and_then_informs(engine: Engine) -> None:
    tag = engine.tagger.tag("您好先生,让您久等了,您的宽带已经恢复正常了")
    assert tag.stages == ("greeting", "waiting", "answer") and tag.stage == "answer"


def test_a_restated_question_is_one_confirm_not_an_answer(engine: Engine) -> None:
    assert engine.tagger.tag("您是说路由器现在连不上是吧").stages == ("confirm",)


@pytest.mark.parametrize("text", ["嗯", "啊", "呃", "好的", "嗯嗯好的哈", "[数字x]", "_"])
def test_fillers_placeholders_and_asr_gaps_alone_are_no_act(engine: Engine, text: str) -> None:
    tag = engine.tagger.tag(text)
    assert (tag.stage, tag.stages) == ("other", ())


def test_fillers_and_asr_gaps_do_not_hide_the_act(engine: Engine) -> None:
    assert engine.tagger.tag("呃您是说那个_宽带是吧").stage == "confirm"
    assert engine.tagger.tag("嗯您好请讲").stage == "greeting"


def test_every_stage_in_a_message_is_listed_in_order(engine: Engine) -> None:
    tag = engine.tagger.tag("非常抱歉给您带来不便。您是说订单还没有收到,对吗?")
    assert tag.stages[:1] == ("apology",) and tag.stage == "confirm"


def test_the_primary_stage_is_the_last_act(engine: Engine) -> None:
    tag = engine.tagger.tag("您的订单已经发货了,请问还有其他需要帮助的吗?")
    assert tag.stages == ("answer", "close-check") and tag.stage == "close-check"


def test_a_trailing_apology_frames_the_move_and_is_not_primary(engine: Engine) -> None:
    tag = engine.tagger.tag("这边已经为您申请退款了,给您带来不便非常抱歉")
    assert tag.stages == ("answer", "apology") and tag.stage == "answer"


def test_a_proposal_with_a_question_tag_is_an_answer_not_a_confirm(engine: Engine) -> None:
    assert engine.tagger.tag("我帮您取消订单可以吗").stage == "answer"


def test_a_request_for_information_is_clarify(engine: Engine) -> None:
    assert engine.tagger.tag("麻烦您提供一下订单号,这边给您查询一下").stages == ("clarify",)


def test_wishes_after_the_goodbye_are_closing_talk_not_an_answer(engine: Engine) -> None:
    tag = engine.tagger.tag("感谢您对京东的支持,祝您生活愉快,再见! 辛苦您点击右下角给小妹一个评价")
    assert tag.stages == ("farewell",)


def test_the_phrasing_the_agent_picked_decides_the_stage(engine: Engine) -> None:
    tag = engine.tagger.tag("好的", phrase_id="listen.invite.online", phrase_stage="listen")
    assert (tag.stage, tag.phrase_id) == ("listen", "listen.invite.online")


def test_a_standard_phrasing_said_verbatim_is_recognised(engine: Engine) -> None:
    phrase = engine.content.phrases["close-check.more_help"]
    tag = engine.tagger.tag(phrase.text)
    assert tag.stage == "close-check" and tag.phrase_id == phrase.id and tag.score >= 90


def test_every_standard_phrasing_said_with_its_slots_filled_is_tagged_with_its_own_stage(engine: Engine) -> None:
    misread = {}
    for phrase in engine.content.phrases.values():
        for template in phrase.templates:
            said = "".join(part if i % 2 == 0 else "小李" for i, part in enumerate(template.parts))
            if engine.tagger.tag(said).stage != phrase.stage:
                misread[phrase.id] = (said, engine.tagger.tag(said).stage)
    assert misread == {}
