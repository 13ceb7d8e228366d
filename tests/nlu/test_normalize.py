"""Normalisation: one canonical spelling per message."""

from __future__ import annotations

import pytest

from app.nlu.normalize import Normalizer


@pytest.mark.parametrize(("raw", "expected"), [
    ("１２３４５", "12345"),
    ("ＡＢＣ－１２３", "abc-123"),
    ("你好！！", "你好!!"),
    ("在吗？", "在吗?"),
    ("订单号：１２３", "订单号:123"),
    ("（急）", "(急)"),
])
def test_full_width_folds_to_half_width(normalizer: Normalizer, raw: str, expected: str) -> None:
    assert normalizer(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("發票怎麼開", "发票怎么开"),
    ("我要退貨", "我要退货"),
    ("請問保修期多長", "请问保修期多长"),
    ("訂單什麼時候發貨", "订单什么时候发货"),
    ("轉人工", "转人工"),
    ("這個很乾淨", "这个很干净"),  # 乾 is a phrase-dependent character (乾淨 → 干净, 乾隆 stays)
])
def test_traditional_becomes_simplified(normalizer: Normalizer, raw: str, expected: str) -> None:
    assert normalizer(raw) == expected


def test_simplified_text_is_left_as_is(normalizer: Normalizer) -> None:
    assert normalizer("这个手机保修期是多久") == "这个手机保修期是多久"


def test_latin_is_lower_cased(normalizer: Normalizer) -> None:
    assert normalizer("iPhone 15 Pro MAX") == "iphone 15 pro max"


@pytest.mark.parametrize(("raw", "expected"), [
    ("  你好   在吗  ", "你好 在吗"),
    ("你好\t\n在吗", "你好 在吗"),
    ("你好\u3000在吗", "你好 在吗"),  # ideographic space
])
def test_whitespace_is_collapsed_and_trimmed(normalizer: Normalizer, raw: str, expected: str) -> None:
    assert normalizer(raw) == expected


@pytest.mark.parametrize("token", ["[订单x]", "[电话x]", "[金额x]", "[日期x]", "[姓名x]", "[地址x]"])
def test_jddc_placeholders_survive_normalisation(normalizer: Normalizer, token: str) -> None:
    assert token in normalizer(f"我的{token}有问题")


@pytest.mark.parametrize("raw", ["訂單號２０２６１１２００８８８ 什麼時候發貨？", "Ｍａｔｅ　６０　Ｐｒｏ多少錢", "好的"])
def test_normalisation_is_idempotent(normalizer: Normalizer, raw: str) -> None:
    once = normalizer(raw)
    assert normalizer(once) == once


def test_a_fresh_normalizer_agrees_with_the_shared_one(normalizer: Normalizer) -> None:
    assert Normalizer()("乾淨的發票") == normalizer("乾淨的發票")
