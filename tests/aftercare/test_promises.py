"""Promises with a time, read from what agents and the bot really write, and when they fall due.

Made on Friday 2026-12-04 at 16:00 in Shanghai unless a test says otherwise; the business day ends at 18:00
(scripts_zh/aftercare/commitments.yaml).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.aftercare.promises import PromiseRules, WorkCalendar, find_promises, load_promise_rules
from app.config import PROJECT_ROOT
from app.content.errors import SchemaError

SHANGHAI = ZoneInfo("Asia/Shanghai")
FRIDAY_4PM = datetime(2026, 12, 4, 16, 0, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def rules() -> PromiseRules:
    loaded = load_promise_rules(PROJECT_ROOT / "scripts_zh")
    assert loaded is not None
    return loaded


def local(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


PROMISES = [
    ("这个问题需要进一步核实,我们会在24小时内给您答复,请您保持电话畅通。", local(12, 5, 16)),
    ("亲 我们24h内联系您", local(12, 5, 16)),
    ("48小时之内会有专人联系您", local(12, 6, 16)),
    ("预计3个工作日内寄出", local(12, 9, 18)),  # Mon, Tue, Wed
    ("退款1-3个工作日退回原账户", local(12, 9, 18)),  # a range is due at its upper end
    ("售后审核通过后3到5个工作日退款到账", local(12, 11, 18)),
    ("明天给您回电哈", local(12, 5, 18)),
    ("师傅明天上午上门", local(12, 5, 12)),
    ("今天之内给您答复", local(12, 4, 18)),
    ("好的,今天下班前给您回复", local(12, 4, 18)),
    ("我们半小时内给您回电", local(12, 4, 16, 30)),
    ("两个小时内联系您", local(12, 4, 18)),
    ("二十四小时内给您回复", local(12, 5, 16)),
    ("一个半小时内处理好", local(12, 4, 17, 30)),
    ("您反映的质量问题我们会转交客户经理跟进,客户经理会在24小时内与您联系", local(12, 5, 16)),
    ("配件预计3天内送达,到货后第一时间通知您", local(12, 7, 18)),
    ("亲亲,已经帮您催促仓库了,48小时内发货哈", local(12, 6, 16)),
    ("我这边登记了,工单号T1024,2个工作日内会有专员回访您", local(12, 8, 18)),
    ("发票会在7个工作日内开具并发送到您的邮箱", local(12, 15, 18)),
    ("维修大概需要3个工作日,期间我会保持与您沟通进度", local(12, 9, 18)),
    ("后天给您补发一个新的", local(12, 6, 18)),
    ("已为您加急处理,预计明天送达", local(12, 5, 18)),
    ("我们会在30分钟内给您回电", local(12, 4, 16, 30)),
    ("三天内给您一个处理结果", local(12, 7, 18)),
    ("好的呢亲,明天中午前联系您确认", local(12, 5, 14)),
    ("尽快帮您处理,最迟明晚给您答复", local(12, 5, 18)),
    ("您放心,5个工作日内赔付到您的账户", local(12, 11, 18)),
    ("下周一给您回电", local(12, 7, 18)),
    ("下周三之前给您答复", local(12, 9, 18)),  # 之前 in the time is no mark of the past
    ("下个星期五上午师傅上门", local(12, 11, 12)),
    ("新的配件下周给您寄出", local(12, 7, 18)),  # "next week" alone: by its Monday
    ("15号前给您寄出", local(12, 15, 18)),
    ("发票12月20日前开具给您", local(12, 20, 18)),
]

NOT_PROMISES = [
    "请您在24小时内完成支付",
    "7天无理由退货",
    "保修期是12个月",
    "我们营业时间是9点到18点",
    "您3天前下的单",
    "如果超过48小时未发货可以申请赔付",
    "请问您是明天在家吗",
    "好的亲",
    "稍后为您处理",  # no time: a courtesy, not a promise one could track
    "您可以在30天内申请退货",
    "麻烦您明天上午把照片发过来",
    "您需要在7天内寄回商品",
    "亲,一般48小时内发货的哦,您是想问什么时候到吗?",
    "我们的质保期是2年",
    "您的订单已经在昨天发货了",
    "烦请您在3个工作日内补充资料",
    "若超过15天未收到退款,可以联系我们",
    "您是3天前收到的货对吗",
    "客服工作时间是早上8点到晚上10点",
    "请问需要明天送货吗",
    "这款手机7天内可以无理由退换",
    "您之前说的明天在家是吗",
    "亲,有什么可以帮您的吗",
    "好的,感谢您的耐心等待",
    "您已经申请了退款,请耐心等待审核",
    "如需上门安装,请提前一天预约",
    "快递一般3天能到,具体以物流为准吗",
    "如果光猫亮红灯,装维人员24小时内上门处理",  # conditional on what the customer finds
    "我们的商品支持自签收之日起7天内无理由退货,15天内可申请换货,退款将在3至7个工作日内原路退回。",  # a policy
    "3号楼的师傅会联系您",  # a building, not a date
    "您是15号前下的单吗",
    "下周一我们休息",
]


@pytest.mark.parametrize(("text", "due"), PROMISES)
def test_a_promise_with_a_time_is_found_with_its_due_time(rules: PromiseRules, text: str, due: datetime) -> None:
    promises = find_promises(text, FRIDAY_4PM, rules)

    assert len(promises) == 1
    assert promises[0].due_at == due.astimezone(UTC) and promises[0].due_at.tzinfo == UTC
    assert promises[0].window in promises[0].what and promises[0].what in text.replace(",", ",")


@pytest.mark.parametrize("text", NOT_PROMISES)
def test_an_obligation_a_policy_a_question_or_a_courtesy_is_no_promise(rules: PromiseRules, text: str) -> None:
    assert find_promises(text, FRIDAY_4PM, rules) == []


def test_two_promises_in_one_message_are_two_in_order(rules: PromiseRules) -> None:
    promises = find_promises("今天先给您补发,明天上午师傅上门取回旧件。", FRIDAY_4PM, rules)

    assert [p.window for p in promises] == ["今天", "明天上午"]


def test_working_days_skip_the_weekend_and_a_saturday_promise_counts_from_monday(rules: PromiseRules) -> None:
    saturday = datetime(2026, 12, 5, 10, 0, tzinfo=SHANGHAI)

    (promise,) = find_promises("3个工作日内寄出", saturday, rules)

    assert promise.due_at == local(12, 9, 18).astimezone(UTC)  # Mon, Tue, Wed


def test_hours_are_calendar_time_across_the_weekend(rules: PromiseRules) -> None:
    friday_8pm = datetime(2026, 12, 4, 20, 0, tzinfo=SHANGHAI)

    (promise,) = find_promises("我们24小时内联系您", friday_8pm, rules)

    assert promise.due_at == local(12, 5, 20).astimezone(UTC)


def test_today_said_after_the_end_of_the_day_is_due_within_the_hour(rules: PromiseRules) -> None:
    evening = datetime(2026, 12, 4, 19, 30, tzinfo=SHANGHAI)

    (promise,) = find_promises("今天给您回复", evening, rules)

    assert promise.due_at == local(12, 4, 20, 30).astimezone(UTC)


def test_holidays_are_skipped_and_make_up_working_days_count() -> None:
    calendar = WorkCalendar(zone=SHANGHAI, end_of_day=time(17, 30), holidays=frozenset({date(2026, 12, 7)}),
                            extra_workdays=frozenset({date(2026, 12, 5)}))
    friday = datetime(2026, 12, 4, 9, 0, tzinfo=SHANGHAI)

    # Saturday the 5th is a make-up working day, Monday the 7th a holiday: two working days end on Tuesday.
    assert calendar.add_working_days(friday, 2) == datetime(2026, 12, 8, 17, 30, tzinfo=SHANGHAI).astimezone(UTC)
    assert calendar.is_working_day(date(2026, 12, 5)) and not calendar.is_working_day(date(2026, 12, 7))


def test_the_shipped_calendar_knows_the_national_day_holiday(rules: PromiseRules) -> None:
    before_holiday = datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI)

    (promise,) = find_promises("1个工作日内给您答复", before_holiday, rules)

    assert promise.due_at == local(10, 8, 18).astimezone(UTC)


def test_a_date_already_past_is_next_months_or_next_years(rules: PromiseRules) -> None:
    assert [p.due_at for p in find_promises("3号前给您寄出", FRIDAY_4PM, rules)] == [
        datetime(2027, 1, 3, 18, 0, tzinfo=SHANGHAI).astimezone(UTC)]
    assert [p.due_at for p in find_promises("1月5号前给您开具发票", FRIDAY_4PM, rules)] == [
        datetime(2027, 1, 5, 18, 0, tzinfo=SHANGHAI).astimezone(UTC)]
    assert find_promises("2月30号前给您寄出", FRIDAY_4PM, rules) == []  # no such date: nothing to track


def test_next_week_said_on_a_sunday_is_the_week_that_starts_tomorrow(rules: PromiseRules) -> None:
    sunday = datetime(2026, 12, 6, 11, 0, tzinfo=SHANGHAI)

    (promise,) = find_promises("下周二给您回访", sunday, rules)

    assert promise.due_at == local(12, 8, 18).astimezone(UTC)


def test_a_naive_time_is_refused(rules: PromiseRules) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        find_promises("24小时内联系您", datetime(2026, 12, 4, 16, 0), rules)


def test_broken_rules_are_refused_naming_what_is_wrong() -> None:
    with pytest.raises(SchemaError, match="unknown unit kinds"):
        PromiseRules.from_data({"units": {"weeks": ["周"]}, "actions": ["联系"], "not_promise": ["请您"]})
    with pytest.raises(SchemaError, match="`actions`"):
        PromiseRules.from_data({"units": {"hours": ["小时"]}, "not_promise": ["请您"]})
    with pytest.raises(SchemaError, match="commitments.yaml"):
        PromiseRules.from_data({"timezone": "Mars/Olympus", "actions": ["联系"], "not_promise": ["请您"]})


def test_the_same_line_said_at_two_times_is_due_at_two_times(rules: PromiseRules) -> None:
    """A line's reading is kept (the bot repeats its phrasings); its due time is still the message's own."""
    line = "我们会在24小时内给您答复"
    first = find_promises(line, FRIDAY_4PM, rules)
    later = find_promises(line, FRIDAY_4PM + timedelta(days=3), rules)

    assert [p.due_at - timedelta(days=3) for p in later] == [p.due_at for p in first]
