"""Every QA rule, specified by a transcript that triggers it and transcripts that must not.

The transcripts run through the real engine and NLU with the shipped `scripts_zh/qa_rules.yaml`.
"""

from __future__ import annotations

from collections.abc import Callable

from app.qa.model import Assessment, Finding
from tests.qa.conftest import Check, agent, bot, customer

GREETING = "您好,很高兴为您服务!我是客服专员小李,请问有什么可以帮到您?"


def turns_of(findings: list[Finding]) -> list[int]:
    return [f.turn for f in findings]


# ---------------------------------------------------------------- greeting.missing


def test_greeting_missing_when_the_first_reply_does_not_greet(check: Check) -> None:
    findings = check("greeting.missing", customer("我的快递到哪了"), agent("亲,在的"), agent("您的快递已经到站点了"))
    assert turns_of(findings) == [1]
    assert findings[0].recommendation is not None and findings[0].recommendation.id == "greeting.standard"


def test_greeting_missing_not_reported_for_the_standard_greeting(check: Check) -> None:
    assert check("greeting.missing", customer("你好"), agent(GREETING)) == []


def test_greeting_missing_accepts_the_opening_question_of_real_chats(check: Check) -> None:
    assert check("greeting.missing", customer("在吗"), agent("有什么问题我可以帮您处理或解决呢?")) == []


def test_greeting_missing_counts_a_bot_greeting(check: Check) -> None:
    assert check("greeting.missing", bot("您好,我是智能客服小华,请问有什么可以帮您?"), customer("你好"), agent("您好")) == []


def test_greeting_missing_says_nothing_when_nobody_answered(check: Check) -> None:
    assert check("greeting.missing", customer("你好"), customer("在吗")) == []


# ---------------------------------------------------------------- greeting.no_identity


def test_greeting_no_identity_when_the_greeting_names_nobody(check: Check) -> None:
    findings = check("greeting.no_identity", customer("你好"), agent("您好,请问有什么可以帮您?"))
    assert turns_of(findings) == [1]
    assert findings[0].evidence.text == "您好"


def test_greeting_no_identity_accepts_a_name_a_staff_number_or_the_agent_name(check: Check) -> None:
    for greeting in (
        GREETING,
        "您好,工号1024为您服务,请问有什么可以帮您?",
        "您好 京东服务专员[数字x]号,很高兴为您服务!",
        "亲爱哒 小[姓名x]在此为您排忧解难~",
        "您好,小李很高兴为您服务",
    ):
        assert check("greeting.no_identity", customer("你好"), agent(greeting)) == [], greeting


def test_greeting_no_identity_is_not_fooled_by_wo_shi_shuo_or_qin(check: Check) -> None:
    assert len(check("greeting.no_identity", customer("你好"), agent("您好亲,我是说您的订单已经发货了"), agent_name=None)) == 1


def test_greeting_no_identity_is_silent_when_there_is_no_greeting(check: Check) -> None:
    assert check("greeting.no_identity", customer("你好"), agent("您的快递已经到站点了")) == []


# ---------------------------------------------------------------- confirm.missing


def test_confirm_missing_when_a_reported_fault_is_answered_without_restating(check: Check) -> None:
    findings = check(
        "confirm.missing",
        customer("我上周买的洗衣机坏了,不能脱水了"),
        agent("您好,我是小李。您可以申请上门维修。"),
    )
    assert turns_of(findings) == [1]
    assert findings[0].details["problem_turn"] == 0
    recommendation = findings[0].recommendation
    assert recommendation is not None and recommendation.stage == "confirm" and "洗衣机" in recommendation.text


def test_confirm_missing_not_reported_when_the_agent_restates_first(check: Check) -> None:
    findings = check(
        "confirm.missing",
        customer("我上周买的洗衣机坏了,不能脱水了"),
        agent("您好,我是小李。您是说洗衣机买了一周就不能脱水了,对吗?"),
        customer("对的"),
        agent("您可以申请上门维修,师傅会在24小时内联系您。"),
    )
    assert findings == []


def test_confirm_missing_does_not_apply_to_policy_or_product_questions(check: Check) -> None:
    assert check("confirm.missing", customer("退货怎么办理?"), agent("您好,我是小李。您可以在我的订单页面提交退货申请。")) == []
    assert check("confirm.missing", customer("这款手机支持无线充电吗?"), agent("您好,我是小李。这款手机支持无线充电。")) == []


def test_confirm_missing_waits_past_a_question_back_to_the_customer(check: Check) -> None:
    findings = check(
        "confirm.missing",
        customer("我想退货,衣服尺码不对"),
        agent("您好,我是小李。请问是哪个订单呢?"),
        customer("订单号202611180001"),
        agent("您是想为订单202611180001办理退货,对吗?"),
    )
    assert findings == []


# ---------------------------------------------------------------- apology.missing


def test_apology_missing_when_a_complaint_is_answered_without_apology(check: Check) -> None:
    findings = check(
        "apology.missing",
        customer("你们的服务太差了!我要投诉!"),
        agent("您好,我是小李。您可以在订单页面提交售后申请。"),
    )
    assert turns_of(findings) == [1]
    assert findings[0].recommendation is not None and findings[0].recommendation.stage == "apology"


def test_apology_missing_triggers_on_an_angry_customer(check: Check) -> None:
    assert turns_of(check("apology.missing", customer("气死我了,等了一个星期还没到"), agent("您好,我是小李。您的订单正在配送中。"))) == [1]


def test_apology_missing_not_reported_when_the_agent_apologises_first(check: Check) -> None:
    for reply in ("非常抱歉给您带来了不愉快的体验,您可以在订单页面提交售后申请。", "不好意思亲,给您添麻烦了,这边帮您申请售后。"):
        assert check("apology.missing", customer("你们的服务太差了!我要投诉!"), agent(reply)) == [], reply


def test_apology_missing_does_not_count_a_question_back_as_the_solution(check: Check) -> None:
    findings = check(
        "apology.missing",
        customer("我要投诉你们的快递员,态度太恶劣了"),
        agent("您好,我是小李。请问是哪个订单呢?"),
        customer("订单号202611180001"),
        agent("非常抱歉给您带来不愉快的体验,我马上为您处理。"),
    )
    assert findings == []


def test_apology_missing_does_not_apply_to_a_calm_question(check: Check) -> None:
    assert check("apology.missing", customer("请问这款手机的保修期是多久?"), agent("您好,我是小李。保修期为一年。")) == []


# ---------------------------------------------------------------- forbidden.phrase


def test_forbidden_phrase_reports_the_span_and_the_constructive_replacement(check: Check) -> None:
    reply = "您好,我是小李。这个不行。"
    (finding,) = check("forbidden.phrase", customer("能不能便宜点"), agent(reply))
    assert finding.turn == 1 and finding.severity == "major"
    assert (finding.evidence.start, finding.evidence.end, finding.evidence.text) == (10, 12, "不行")
    assert reply[finding.evidence.start : finding.evidence.end] == "不行"
    assert finding.recommendation is not None and finding.recommendation.id == "forbidden.buxing"
    assert finding.recommendation.text.startswith("目前暂时无法直接解决")


def test_forbidden_phrase_blaming_the_customer_is_critical_and_fatal(assess: Callable[..., Assessment]) -> None:
    result = assess(customer("手机屏幕裂了"), agent("您好,我是小李。这是你自己的问题。"))
    (finding,) = [f for f in result.findings if f.rule == "forbidden.phrase"]
    assert finding.severity == "critical" and finding.fatal
    assert result.fatal and result.score == 0


def test_forbidden_phrase_ignores_conditions_questions_and_the_customer(check: Check) -> None:
    assert check("forbidden.phrase", customer("不行,我不同意"), agent("您好,我是小李。如果还是不行的话,您再联系我们。")) == []
    assert check("forbidden.phrase", customer("主机呢"), agent("主机也不行吗?")) == []
    assert check("forbidden.phrase", customer("商家不给退"), agent("商家为什么不给您退货呢?")) == []


# ---------------------------------------------------------------- wait.no_apology


def test_wait_no_apology_when_the_reply_comes_late_without_apology(check: Check) -> None:
    (finding,) = check(
        "wait.no_apology",
        customer("你好", at=0),
        agent(GREETING, at=10),
        customer("我的快递到哪了", at=20),
        agent("您的快递已经到站点了,预计今天送达。", at=320),
    )
    assert finding.turn == 3 and finding.details == {"gap_seconds": 300, "threshold_seconds": 60}
    assert finding.recommendation is not None and finding.recommendation.id == "waiting.long_wait"


def test_wait_no_apology_not_reported_with_an_apology_for_the_wait(check: Check) -> None:
    late = agent("非常抱歉让您久等了,您的快递已经到站点了。", at=320)
    assert check("wait.no_apology", customer("我的快递到哪了", at=20), late) == []


def test_wait_no_apology_measures_from_the_first_unanswered_message(check: Check) -> None:
    findings = check(
        "wait.no_apology",
        customer("在吗", at=0),
        customer("我的快递到哪了", at=50),
        agent("您的快递已经到站点了。", at=90),
    )
    assert findings[0].details["gap_seconds"] == 90


def test_wait_no_apology_does_not_apply_to_quick_replies_or_missing_timestamps(check: Check) -> None:
    assert check("wait.no_apology", customer("我的快递到哪了", at=0), agent("您的快递已经到站点了。", at=30)) == []
    assert check("wait.no_apology", customer("我的快递到哪了"), agent("您的快递已经到站点了。")) == []


def test_wait_no_apology_threshold_is_per_channel(check: Check) -> None:
    turns = (customer("我的快递到哪了", at=0), agent("您的快递已经到站点了。", at=45))
    assert len(check("wait.no_apology", *turns, channel="phone")) == 1
    assert check("wait.no_apology", *turns, channel="online") == []


# ---------------------------------------------------------------- answer.no_eta


def test_answer_no_eta_when_the_agent_defers_without_a_time(check: Check) -> None:
    (finding,) = check("answer.no_eta", customer("我的发票还没收到"), agent("您好,我是小李,这个我帮您反馈一下。"))
    assert finding.turn == 1 and finding.evidence.text == "帮您反馈"
    assert finding.recommendation is not None and finding.recommendation.stage == "promise"
    assert "24小时" in finding.recommendation.text


def test_answer_no_eta_not_reported_with_a_time_in_the_reply_or_the_next_one(check: Check) -> None:
    assert check("answer.no_eta", customer("我的发票还没收到"), agent("这个我帮您反馈一下,24小时内给您答复。")) == []
    assert check(
        "answer.no_eta",
        customer("我的发票还没收到"),
        agent("好的,会反馈财务处理的"),
        customer("多谢"),
        agent("预计两个工作日寄出"),
    ) == []


def test_answer_no_eta_does_not_apply_to_checking_within_the_chat(check: Check) -> None:
    assert check("answer.no_eta", customer("我的快递到哪了"), agent("请您稍等,正在为您核实处理中哦~")) == []


# ---------------------------------------------------------------- close.no_more_help and close.no_farewell

SOLVED = (customer("我的快递到哪了"), agent(GREETING), customer("订单202611180001"), agent("您的快递已经到站点了,预计今天送达。"))


def test_close_no_more_help_when_the_agent_never_asks(check: Check) -> None:
    findings = check("close.no_more_help", *SOLVED, customer("好的谢谢"), agent("感谢您的咨询,祝您生活愉快,再见!"))
    assert turns_of(findings) == [5]
    assert findings[0].recommendation is not None and findings[0].recommendation.id == "close-check.more_help"


def test_close_no_more_help_not_reported_when_the_agent_asks(check: Check) -> None:
    for question in ("请问还有其他需要帮助的吗?", "请问还有其他还可以帮到您的吗?", "请问还有可以为您服务的吗?"):
        assert check("close.no_more_help", *SOLVED, customer("好的"), agent(question)) == [], question


def test_close_rules_do_not_judge_one_reply_or_a_hand_off(check: Check) -> None:
    short = (customer("我的快递到哪了"), agent("您的快递已经到站点了。"))
    handed = (*SOLVED, customer("我要投诉"), agent("好的,我现在为您转接人工客服专员。"))
    for rule in ("close.no_more_help", "close.no_farewell"):
        assert check(rule, *short) == []
        assert check(rule, *handed) == []


def test_close_no_farewell_when_the_agent_does_not_say_goodbye(check: Check) -> None:
    findings = check("close.no_farewell", *SOLVED, customer("没有了"), agent("好的"))
    assert turns_of(findings) == [5]
    assert findings[0].recommendation is not None and findings[0].recommendation.id == "farewell.online"


def test_close_no_farewell_not_reported_for_thanks_and_goodbye(check: Check) -> None:
    assert check("close.no_farewell", *SOLVED, customer("没有了"), agent("感谢您的咨询,祝您生活愉快,再见!")) == []


def test_close_no_farewell_not_reported_when_the_customer_leaves_after_the_close_check(check: Check) -> None:
    assert check("close.no_farewell", *SOLVED, customer("好的"), agent("请问还有其他需要帮助的吗?")) == []


# ---------------------------------------------------------------- pii.exposed


def test_pii_exposed_reports_full_numbers_masked_and_fails_the_transcript(assess: Callable[..., Assessment]) -> None:
    reply = "您好,我是小李。您的手机号13812345678、身份证11010519491231002X、卡号4111 1111 1111 1111都已登记。"
    result = assess(customer("我想退款"), agent(reply))
    findings = [f for f in result.findings if f.rule == "pii.exposed"]
    assert [f.details["kind"] for f in findings] == ["phone", "id_card", "bank_card"]
    assert [f.evidence.text for f in findings] == ["138****5678", "110***********002X", "411* **** **** 1111"]
    phone = findings[0].evidence
    assert phone.start is not None and reply[phone.start : phone.end] == "13812345678"
    assert findings[0].severity == "critical" and findings[0].fatal and result.score == 0
    for finding in result.findings:  # no finding of any rule repeats a full number
        quoted = " ".join([finding.message, finding.evidence.text, finding.recommendation.text if finding.recommendation else ""])
        assert "13812345678" not in quoted and "11010519491231002X" not in quoted


def test_pii_exposed_accepts_masked_numbers_and_order_numbers(check: Check) -> None:
    assert check("pii.exposed", customer("我想退款"), agent("您的手机号138****5678已登记。")) == []
    assert check("pii.exposed", customer("我想退款"), agent("您的订单号4111111111111111已经退款。")) == []


def test_pii_exposed_does_not_judge_the_customer(check: Check) -> None:
    assert check("pii.exposed", customer("我的手机号13812345678"), agent("好的,已为您登记。")) == []
