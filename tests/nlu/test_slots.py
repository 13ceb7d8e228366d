"""Slot extraction: order ids, phones, e-mails, dates, product models and amounts."""

from __future__ import annotations

from datetime import date
from typing import Protocol

import pytest

from app.nlu.analysis import SLOT_NAMES
from app.nlu.analyzer import Analyzer
from app.nlu.normalize import Normalizer
from app.nlu.slots import SlotExtractor
from tests.nlu.support import TODAY


class Extract(Protocol):
    def __call__(self, text: str, today: date = ...) -> dict[str, str]: ...


@pytest.fixture
def extract(slots: SlotExtractor, normalizer: Normalizer) -> Extract:
    """Factory: slots of a raw message, normalised as the analyzer would, against TODAY."""
    def run(text: str, today: date = TODAY) -> dict[str, str]:
        return slots.extract(normalizer(text), today)
    return run


# ---------------------------------------------------------------- order ids and phones

@pytest.mark.parametrize(("text", "order_id"), [
    ("订单号123456789012到哪了", "123456789012"),
    ("订单号:123456789012", "123456789012"),
    ("订单编号 98765432101", "98765432101"),
    ("我的单号是 87654321012", "87654321012"),
    ("帮我查下 2026112000001", "2026112000001"),
    ("訂單號２０２６１１２００８８８", "202611200888"),
    ("[订单x] 这个订单要退款", "[订单x]"),
    ("订单123456", "123456"),  # a short id is fine after an explicit marker
])
def test_order_id_is_found(extract: Extract, text: str, order_id: str) -> None:
    assert extract(text).get("order_id") == order_id


@pytest.mark.parametrize("text", ["我买了3件", "一共12345个", "价格3999元", "邮编100080"])
def test_short_numbers_are_not_order_ids(extract: Extract, text: str) -> None:
    assert "order_id" not in extract(text)


def test_eleven_digit_mobile_is_phone_not_order_id(extract: Extract) -> None:
    assert extract("收货电话填错了，应该是13812345678") == {"phone": "13812345678"}


def test_eleven_digit_number_after_order_marker_is_an_order_id(extract: Extract) -> None:
    assert extract("订单13812345678") == {"order_id": "13812345678"}
    assert extract("单号是 13812345678") == {"order_id": "13812345678"}


@pytest.mark.parametrize(("text", "phone"), [
    ("我的手机13812345678", "13812345678"),
    ("138 1234 5678", "13812345678"),
    ("138-1234-5678", "13812345678"),
    ("+86 13912345678", "13912345678"),
    ("电话：010-12345678", "010-12345678"),
    ("座机0755-1234567", "0755-1234567"),
    ("客服电话4008008888", "400-800-8888"),
    ("400-800-8888", "400-800-8888"),
    ("手机号02112345678", "02112345678"),
    ("电话[电话x]", "[电话x]"),
])
def test_phone_is_found(extract: Extract, text: str, phone: str) -> None:
    assert extract(text).get("phone") == phone


@pytest.mark.parametrize("text", ["12345678901", "23812345678", "1381234567"])
def test_numbers_that_are_not_mainland_mobiles_are_not_phones(extract: Extract, text: str) -> None:
    assert "phone" not in extract(text)


def test_order_and_phone_in_one_message_are_both_kept(extract: Extract) -> None:
    assert extract("订单123456789012 电话13812345678") == {"order_id": "123456789012", "phone": "13812345678"}
    assert extract("电话13812345678 订单123456789012") == {"order_id": "123456789012", "phone": "13812345678"}


# ---------------------------------------------------------------- e-mail

@pytest.mark.parametrize(("text", "email"), [
    ("发票发到我邮箱 abc@example.com", "abc@example.com"),
    ("邮箱：Zhang.San@QQ.com 谢谢", "zhang.san@qq.com"),
    ("fin-team+jd@corp.example.cn", "fin-team+jd@corp.example.cn"),
])
def test_email_is_found_lower_cased(extract: Extract, text: str, email: str) -> None:
    assert extract(text).get("email") == email


def test_digits_inside_an_email_are_not_an_order_id(extract: Extract) -> None:
    assert extract("发到123456789012@qq.com") == {"email": "123456789012@qq.com"}


# ---------------------------------------------------------------- dates

@pytest.mark.parametrize(("text", "iso"), [
    ("2026-11-20到的", "2026-11-20"),
    ("2026/11/20", "2026-11-20"),
    ("2026年11月20日下的单", "2026-11-20"),
    ("11月20号下单", "2026-11-20"),
    ("十一月二十号", "2026-11-20"),
    ("11/20签收的", "2026-11-20"),
    ("去年12月3号买的", "2025-12-03"),
    ("20号能到吗", "2026-11-20"),
])
def test_absolute_date_resolves_to_iso(extract: Extract, text: str, iso: str) -> None:
    assert extract(text).get("date") == iso


@pytest.mark.parametrize(("text", "iso"), [
    ("今天能到吗", "2026-11-22"),
    ("昨天下的单", "2026-11-21"),
    ("前天买的耳机", "2026-11-20"),
    ("大前天", "2026-11-19"),
    ("明天送可以吗", "2026-11-23"),
    ("后天", "2026-11-24"),
    ("上周三买的", "2026-11-11"),
    ("上星期三", "2026-11-11"),
    ("本周五", "2026-11-20"),
    ("下周一送", "2026-11-23"),
    ("三天前", "2026-11-19"),
    ("3天后", "2026-11-25"),
    ("两周前", "2026-11-08"),
    ("一个月前", "2026-10-22"),
    ("上个月5号", "2026-10-05"),
    ("下个月1号", "2026-12-01"),
])
def test_relative_date_resolves_against_today(extract: Extract, text: str, iso: str) -> None:
    assert extract(text).get("date") == iso


def test_relative_date_yesterday_resolves_against_today(extract: Extract) -> None:
    assert extract("昨天", date(2026, 3, 1))["date"] == "2026-02-28"
    assert extract("昨天", date(2024, 3, 1))["date"] == "2024-02-29"


def test_month_arithmetic_clamps_to_month_end(extract: Extract) -> None:
    assert extract("一个月前", date(2026, 3, 31))["date"] == "2026-02-28"


@pytest.mark.parametrize("text", ["7天无理由退货", "3号线地铁站", "五号电池有吗", "每周三发货吗", "2月30日", "保修期三年"])
def test_things_that_are_not_dates_are_ignored(extract: Extract, text: str) -> None:
    assert "date" not in extract(text)


def test_day_missing_from_last_month_is_not_a_date(extract: Extract) -> None:
    assert "date" not in extract("上个月31号", date(2026, 12, 5))  # November has 30 days


def test_first_date_in_the_text_wins(extract: Extract) -> None:
    assert extract("三天前买的，20号到")["date"] == "2026-11-19"


# ---------------------------------------------------------------- product models

@pytest.mark.parametrize(("text", "model"), [
    ("Mate 60 Pro多少钱", "Mate 60 Pro"),
    ("华为Mate 60 Pro有货吗", "Mate 60 Pro"),
    ("mate60pro", "Mate 60 Pro"),
    ("iphone15promax", "iPhone 15 Pro Max"),
    ("Mate 60E", "Mate 60E"),
    ("iPhone 15 有256G的吗", "iPhone 15"),
    ("iphone15 pro max", "iPhone 15 Pro Max"),
    ("galaxy s24 ultra", "Galaxy S24 Ultra"),
    ("ipad air", "iPad Air"),
    ("X1-Carbon有没有32G内存的", "X1-Carbon"),
    ("型号 AB-1234 的滤网", "AB-1234"),
    ("型号是kfr-35gw", "KFR-35GW"),
    ("小米14充电很慢", "小米14"),
    ("红米k70至尊版", "红米K70"),
    ("RTX4090还有货没", "RTX4090"),
])
def test_product_model_is_found_and_canonicalised(extract: Extract, text: str, model: str) -> None:
    assert extract(text).get("product_model") == model


@pytest.mark.parametrize("text", ["wifi6路由器", "5g手机", "买了3q", "顺丰单号sf1234567890", "小米手机", "A4纸", "xl码"])
def test_non_model_codes_are_not_product_models(extract: Extract, text: str) -> None:
    assert "product_model" not in extract(text)


# ---------------------------------------------------------------- amounts

@pytest.mark.parametrize(("text", "amount"), [
    ("退款199元什么时候到", "199"),
    ("¥199.5", "199.5"),
    ("￥199.50", "199.5"),
    ("退了199块", "199"),
    ("才50块钱", "50"),
    ("两百元", "200"),
    ("一百五十块", "150"),
    ("一百五", None),  # no currency word: not an amount
    ("三块五", "3.5"),
    ("1.5万元", "15000"),
    ("rmb 88", "88"),
    ("[金额x]", "[金额x]"),
])
def test_amount_is_a_plain_decimal_string(extract: Extract, text: str, amount: str | None) -> None:
    assert extract(text).get("amount") == amount


def test_block_counting_things_is_not_money(extract: Extract) -> None:
    assert "amount" not in extract("两块屏幕都碎了")


# ---------------------------------------------------------------- shape

def test_only_present_slots_are_returned(extract: Extract) -> None:
    assert extract("你好，在吗") == {}


def test_slots_come_in_contract_order(extract: Extract) -> None:
    found = extract("我昨天买的iPhone 15 Pro退款199元，订单123456789012，电话13812345678，邮箱a@b.cn")
    assert list(found) == [name for name in SLOT_NAMES if name in found]
    assert set(found) == set(SLOT_NAMES)


@pytest.mark.parametrize("text", [
    "我的身份证号110105194912310021,帮我查一下订单",
    "订单号11010519491231002X",  # even after an order word
    "退款退到卡号4111111111111111",
    "卡号 4111 1111 1111 1111",
])
def test_id_and_bank_card_numbers_are_never_kept_as_order_ids(analyzer: Analyzer, text: str) -> None:
    slots = analyzer.analyze(text, today=TODAY).slots
    assert "order_id" not in slots and "phone" not in slots
