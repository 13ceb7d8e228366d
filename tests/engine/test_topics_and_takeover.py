"""The restated issue and topics, and a human taking over a hand-off (issue 11: follow the human)."""

from __future__ import annotations

from app.engine.conversation import Conversation
from app.engine.events import AgentSaid, CustomerSaid, ModeChanged, SlotSet
from app.engine.step import TOPIC_SWITCH_MARGIN, Engine

COMPLAINT = "嗯…那个 你们的快递员把我的东西摔坏了,我要投诉!"


def said(engine: Engine, conversation: Conversation, *texts: str) -> Conversation:
    for text in texts:
        conversation = engine.step(conversation, CustomerSaid(text), with_suggestions=False).conversation
    return conversation


def test_an_acknowledgement_never_overwrites_the_stated_issue(engine: Engine) -> None:
    conversation = said(engine, engine.start("ack", mode="bot").conversation, COMPLAINT)
    issue = conversation.slots["issue"]
    assert "摔坏" in issue
    for ack in ("好的", "嗯嗯", "好的,谢谢", "嗯 是的"):
        conversation = said(engine, conversation, ack)
        assert conversation.slots["issue"] == issue, ack


def test_a_follow_up_question_opens_a_new_topic_and_keeps_the_issue(engine: Engine) -> None:
    conversation = said(engine, engine.start("follow", mode="bot").conversation, COMPLAINT, "对", "呃 还有")
    issue = conversation.slots["issue"]
    result = engine.step(conversation, CustomerSaid("好的,那退款多久能到账啊?"), with_suggestions=False)
    assert result.conversation.slots["issue"] == issue
    assert result.conversation.slots["topic"] == "return_refund"
    assert "退款" in result.conversation.slots["question"]
    assert [reply.phrase_id for reply in result.replies][0] == "answer.return_refund.refund_time"
    assert engine.content.facts["refund_time"] in result.replies[0].text


def test_a_correction_after_a_wrong_restatement_is_restated_not_answered(engine: Engine) -> None:
    conversation = said(engine, engine.start("fix", mode="bot").conversation, "我想退货", "不对,不是这个意思")
    result = engine.step(conversation, CustomerSaid("我是想问我的空调怎么报修"), with_suggestions=False)
    assert [r.stage for r in result.replies] == ["confirm"]
    assert "空调" in result.conversation.slots["issue"]


UNSURE = "包装有点破"  # product_info, but below the flows' min_confidence


def test_an_unsure_reading_moves_the_topic_for_an_assisted_agent_but_not_for_the_bot(engine: Engine) -> None:
    analysis = engine.analyze(UNSURE)
    assert analysis.intent in engine.content.flows["default"].topics
    assert analysis.confidence < engine.content.flows["default"].min_confidence

    assisted = said(engine, engine.start("unsure-assist", mode="assist").conversation, "我的快递到哪了", UNSURE)
    bot = said(engine, engine.start("unsure-bot", mode="bot").conversation, "我的快递到哪了", UNSURE)

    assert assisted.slots["topic"] == analysis.intent  # the agent's suggestions follow the best reading
    assert bot.slots["topic"] == "order_status"  # the bot acts on the topic, so an unsure reading leaves it
    assert "包装" not in assisted.slots.get("issue", "")  # an unsure reading is not restated as the issue


POLICY = "七天无理由退货怎么算"
CLOSE_CALL = "几点之前下单当天能发货"  # order_status, but policy is nearly as probable


def test_an_assisted_agents_topic_gives_way_only_to_a_clearly_more_probable_reading(engine: Engine) -> None:
    reading = engine.analyze(CLOSE_CALL)
    policy = dict(reading.alternatives)["policy"]
    assert reading.intent == "order_status" and reading.confidence - policy < TOPIC_SWITCH_MARGIN

    assisted = said(engine, engine.start("close-assist", mode="assist").conversation, POLICY, CLOSE_CALL)
    bot = said(engine, engine.start("close-bot", mode="bot").conversation, POLICY, CLOSE_CALL)

    assert assisted.slots["topic"] == "policy"  # hardly more probable: the conversation stays on its topic
    assert bot.slots["topic"] == "order_status"  # the bot follows any confident reading, as before
    assert said(engine, assisted, "发票怎么开").slots["topic"] == "invoice"  # a clear new question moves it


def handed_off(engine: Engine) -> Conversation:
    conversation = said(engine, engine.start("handoff", mode="bot").conversation, COMPLAINT, "转人工")
    assert conversation.state == "handoff" and conversation.awaiting_agent
    return conversation


def test_takeover_leaves_handoff_and_speaks_as_the_human(engine: Engine) -> None:
    result = engine.step(handed_off(engine), ModeChanged("assist", "alice"))
    assert SlotSet("agent_name", "alice") in result.events
    assert result.conversation.state == engine.content.flows["default"].takeover_state() == "listen"
    assert result.conversation.taken_over and result.conversation.mode == "assist"
    assert all(s.stage != "hand-off" for s in result.suggestions)


def test_after_takeover_the_stage_follows_the_human_and_answers_the_follow_up(engine: Engine) -> None:
    conversation = engine.step(handed_off(engine), ModeChanged("assist", "alice")).conversation
    conversation = engine.step(conversation, AgentSaid("您好,我是客服alice,您的问题我已经看到了"), with_suggestions=False).conversation
    result = engine.step(conversation, CustomerSaid("好的,那退款多久能到账?"))
    ids = [s.phrase_id for s in result.suggestions]
    assert "answer.return_refund.refund_time" in ids[:3], ids
    assert all(s.stage != "hand-off" for s in result.suggestions)
    assert all("您的意思是好的" not in s.text for s in result.suggestions)


def test_a_hand_off_request_after_takeover_offers_no_transfer_line_to_the_human(engine: Engine) -> None:
    conversation = engine.step(handed_off(engine), ModeChanged("assist", "alice")).conversation
    result = engine.step(conversation, CustomerSaid("我要转人工"))
    assert result.suggestions and all(s.stage != "hand-off" for s in result.suggestions)


def test_release_hands_back_to_the_bot(engine: Engine) -> None:
    conversation = engine.step(handed_off(engine), ModeChanged("assist", "alice")).conversation
    released = engine.step(conversation, ModeChanged("bot", "alice")).conversation
    assert not released.taken_over and released.mode == "bot"
