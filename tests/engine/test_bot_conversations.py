"""Scripted end-to-end bot conversations through the default flow, one per scenario.

Each test reads as a transcript: what the customer says, which stage(s) the bot answers with,
and where the script is afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from app.engine.conversation import Conversation
from app.engine.events import ActionCompleted, ActionFailed, CustomerSaid, HandoffRequested
from app.engine.step import Engine, StepResult

AT = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


@dataclass
class Chat:
    engine: Engine
    channel: str = "online"
    conversation: Conversation = field(init=False)
    results: list[StepResult] = field(default_factory=list)

    def __post_init__(self) -> None:
        result = self.engine.start("test-conversation", channel=self.channel, at=AT)
        self.conversation = result.conversation
        self.results.append(result)

    def say(self, text: str) -> list[str]:
        """The customer says `text`; returns the stages the bot answered with."""
        return self.feed(CustomerSaid(text, at=AT))

    def feed(self, event: object) -> list[str]:
        result = self.engine.step(self.conversation, event)  # type: ignore[arg-type]
        self.conversation = result.conversation
        self.results.append(result)
        return [reply.stage for reply in result.replies]

    @property
    def state(self) -> str:
        return self.conversation.state

    @property
    def last(self) -> StepResult:
        return self.results[-1]

    def replies(self) -> list[str]:
        return [reply.text for reply in self.last.replies]


@pytest.fixture
def chat(engine: Engine) -> Chat:
    return Chat(engine)


def finish(chat: Chat) -> None:
    """The closing check, then goodbye and the request for a rating: every conversation should end the same way."""
    assert chat.state == "close_check"
    assert chat.say("没有了,谢谢") == ["farewell", "farewell"]
    assert chat.last.replies[-1].phrase_id == "survey.ask"
    assert chat.conversation.ended and chat.conversation.survey_pending


def test_conversation_opens_with_greeting_and_listens(chat: Chat) -> None:
    assert [r.stage for r in chat.last.replies] == ["greeting"]
    assert chat.state == "listen"
    assert chat.conversation.slots["agent_name"]  # the bot introduces itself by name (seed 001)
    assert "{" not in chat.last.replies[0].text


def test_greeting_is_answered_with_an_invitation(chat: Chat) -> None:
    assert chat.say("你好") == ["listen"]
    assert chat.state == "listen"


@pytest.mark.parametrize(
    ("question", "phrase_id"),
    [
        ("这款产品有什么功能特点?", "answer.product_info.features"),
        ("你们运费怎么算,包邮吗?", "answer.policy.shipping_fee"),
        ("会员积分怎么兑换礼品?", "answer.membership.points_redeem"),
        ("手机的保修期是多久?", "answer.warranty.period"),
        ("我想开增值税专用发票,需要什么?", "answer.invoice.special"),
    ],
)
def test_simple_question_is_answered_from_the_facts_then_closed(chat: Chat, question: str, phrase_id: str) -> None:
    assert chat.say(question) == ["answer", "close-check"]
    assert chat.last.replies[0].phrase_id == phrase_id
    assert "{" not in chat.last.replies[0].text  # every placeholder was filled from facts.yaml
    finish(chat)


def test_return_request_is_restated_then_answered(chat: Chat) -> None:
    assert chat.say("我上周买的衣服不合适,想退货") == ["confirm"]
    assert chat.conversation.slots["topic"] == "return_refund"
    assert chat.say("对的") == ["answer", "close-check"]
    assert chat.last.replies[0].phrase_id.startswith("answer.return_refund")
    finish(chat)


def test_repair_request_is_restated_then_answered(chat: Chat) -> None:
    assert chat.say("家里空调坏了不制冷,想报修") == ["apology", "confirm"]  # a problem said with feeling: sorry first
    assert chat.say("是的") == ["answer", "close-check"]
    assert chat.last.replies[0].phrase_id.startswith("answer.repair")
    finish(chat)


def test_wrong_restatement_leads_to_clarification_and_a_new_restatement(chat: Chat) -> None:
    assert chat.say("我想退货") == ["confirm"]
    assert chat.say("不对,不是这个意思") == ["clarify"]
    assert chat.conversation.counters["corrections"] == 1
    assert chat.say("我是想问我的空调怎么报修") == ["confirm"]
    assert chat.conversation.slots["topic"] == "repair"
    assert chat.say("对") == ["answer", "close-check"]
    finish(chat)


def test_correction_with_the_right_problem_is_restated_at_once(chat: Chat) -> None:
    chat.say("我想退货")
    assert chat.say("不是退货,我是要报修,空调坏了") == ["confirm"]
    assert chat.conversation.slots["topic"] == "repair"


def test_angry_complaint_gets_an_apology_first(chat: Chat) -> None:
    assert chat.say("你们的服务太差了!!我要投诉!") == ["apology", "confirm"]
    assert chat.say("是的") == ["answer", "close-check"]
    assert chat.last.replies[0].phrase_id.startswith("answer.complaint")
    finish(chat)


def test_repeated_anger_hands_off_to_a_human(chat: Chat) -> None:
    chat.say("你们什么垃圾服务,气死我了!!!")
    assert chat.say("你们就是骗子!!!我要去12315投诉你们!!!") == ["hand-off"]
    assert chat.conversation.awaiting_agent
    assert any(isinstance(e, HandoffRequested) for e in chat.last.events)


def test_explicit_request_for_a_human_hands_off(chat: Chat) -> None:
    assert chat.say("转人工") == ["hand-off"]
    assert chat.state == "handoff" and chat.conversation.awaiting_agent
    assert chat.say("人呢?") == []  # waits for the agent; the bot stays quiet


def test_order_status_asks_for_the_order_number_then_looks_it_up(chat: Chat) -> None:
    assert chat.say("我的快递到哪了?") == ["clarify"]
    assert chat.last.replies[0].phrase_id == "clarify.ask_order_id"
    assert chat.say("订单号202611180001") == ["waiting"]
    (request,) = chat.last.actions
    assert request.action == "lookup_order" and request.args["order_id"] == "202611180001"
    stages = chat.feed(
        ActionCompleted(
            "lookup_order",
            {"shipping_status": "运输中", "carrier": "顺丰速运", "tracking_no": "SF1", "eta": "2026-11-24"},
            at=AT,
        )
    )
    assert stages == ["answer", "close-check"]
    assert "顺丰速运" in chat.last.replies[0].text and "202611180001" in chat.last.replies[0].text
    finish(chat)


def test_failed_lookup_promises_a_reply_time(chat: Chat) -> None:
    chat.say("帮我查下订单202611180001的物流")
    assert chat.last.actions
    assert chat.feed(ActionFailed("lookup_order", "timed out", at=AT)) == ["promise", "close-check"]
    assert chat.engine.content.facts["response_time"] in chat.last.replies[0].text


def test_question_without_a_known_answer_promises_a_reply_instead_of_inventing(chat: Chat) -> None:
    assert chat.say("这款手机支持无线充电吗?") == ["promise", "close-check"]


def test_unclear_message_is_clarified_then_handed_off(chat: Chat) -> None:
    assert chat.say("阿巴阿巴") == ["clarify"]
    assert chat.say("呜啦啦") == ["clarify"]
    assert chat.say("哈哈哈") == ["hand-off"]


def test_thanks_and_goodbye_ends_the_conversation(chat: Chat) -> None:
    assert chat.say("好的谢谢,再见") == ["farewell", "farewell"]
    assert chat.conversation.ended


def test_a_digit_reply_to_the_survey_is_the_rating_and_keeps_the_conversation_ended(chat: Chat) -> None:
    chat.say("好的谢谢,再见")
    assert chat.replies()[-1] == chat.engine.content.survey.ask["online"]  # type: ignore[union-attr]

    assert chat.say("5分") == ["farewell"]

    assert chat.conversation.rating == 5 and chat.conversation.ended and not chat.conversation.survey_pending
    assert chat.last.replies[0].phrase_id == "survey.thanks"


@pytest.mark.parametrize(("reply", "score"), [("1", 1), ("５", 5), ("我打四分", 4), ("三星", 3), ("非常满意", 5)])
def test_phone_customers_rate_with_a_digit_or_the_words_of_a_score(engine: Engine, reply: str, score: int) -> None:
    chat = Chat(engine, channel="phone")
    chat.say("好的谢谢,再见")
    assert "请按5" in chat.replies()[-1]

    chat.say(reply)

    assert chat.conversation.rating == score


def test_anything_but_a_score_after_the_survey_reopens_the_conversation(chat: Chat) -> None:
    chat.say("好的谢谢,再见")

    chat.say("等等,我还想问一下发票怎么开")

    assert chat.conversation.rating is None and not chat.conversation.ended
    assert not chat.conversation.survey_pending  # a later "5" is a message again, not a rating


def test_another_question_at_the_closing_check_loops_back(chat: Chat) -> None:
    chat.say("手机的保修期是多久?")
    assert chat.say("还有个问题,发票怎么开?") == ["answer", "close-check"]
    assert chat.last.replies[0].phrase_id.startswith("answer.invoice")
    assert chat.say("有") == ["listen"]
    assert chat.say("积分怎么兑换?") == ["answer", "close-check"]
    finish(chat)


def test_customer_writing_after_the_end_reopens_the_script(chat: Chat) -> None:
    chat.say("谢谢,再见")
    assert chat.conversation.ended
    assert chat.say("对了,保修期多久?") == ["answer", "close-check"]
    assert not chat.conversation.ended
    assert any(e.type == "conversation_reopened" for e in chat.last.events)


def test_phone_channel_uses_phone_phrasings(engine: Engine) -> None:
    chat = Chat(engine, channel="phone")
    phrase = engine.content.phrases[chat.last.replies[0].phrase_id]
    assert "phone" in phrase.channels


def test_email_flow_answers_each_mail_with_a_whole_letter(engine: Engine) -> None:
    result = engine.start("mail-1", flow="email", channel="email", slots={"customer_name": "王先生"}, at=AT)
    assert result.replies == () and result.conversation.state == "inbox"
    result = engine.step(result.conversation, CustomerSaid("您好,我想咨询一下贵公司产品的保修期是多久?", at=AT))
    assert [r.stage for r in result.replies] == ["greeting", "answer", "close-check", "farewell"]
    letter = "".join(r.text for r in result.replies)
    assert "王先生" in letter and engine.content.facts["warranty_period"] in letter
    assert result.conversation.ended


def test_email_complaint_letter_apologises_before_answering(engine: Engine) -> None:
    result = engine.start("mail-2", flow="email", channel="email", slots={"customer_name": "李女士"}, at=AT)
    result = engine.step(result.conversation, CustomerSaid("你们的服务太差了,我要投诉,请给我一个处理方案!", at=AT))
    stages = [r.stage for r in result.replies]
    assert stages[:2] == ["greeting", "apology"] and stages[-1] == "farewell"


def test_the_email_flow_has_no_real_time_stages(engine: Engine) -> None:
    # A letter is written whole: nobody waits on the line, and nobody is transferred mid-sentence.
    stages = {spec.stage for spec in engine.content.flows["email"].states.values()}
    assert stages.isdisjoint({"waiting", "hand-off"}) and {"greeting", "farewell"} <= stages


def test_the_bot_never_says_an_id_or_card_number_back(chat: Chat) -> None:
    chat.say("我要退款,身份证号110105194912310021,退到卡号4111111111111111")
    said = " ".join(reply.text for reply in chat.last.replies)
    assert "110105194912310021" not in said and "4111111111111111" not in said
    assert "order_id" not in chat.conversation.slots
    assert "110105194912310021" not in chat.conversation.slots.get("issue", "")
