"""Chinese numerals as numbers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.nlu.numerals import parse_decimal, parse_integer, plain


@pytest.mark.parametrize(("text", "value"), [
    ("十", 10), ("十五", 15), ("二十", 20), ("一百五十", 150), ("一百零五", 105), ("一百五", 150), ("两千二", 2200),
    ("两百", 200), ("三万", 30000), ("一万五", 15000), ("一万零五", 10005), ("199", 199), ("零", 0),
])
def test_integer_in_chinese_or_digits(text: str, value: int) -> None:
    assert parse_integer(text) == value


@pytest.mark.parametrize("text", ["", "一百块", "abc", "十x"])
def test_non_numbers_are_none(text: str) -> None:
    assert parse_integer(text) is None


@pytest.mark.parametrize(("text", "value"), [("三点五", "3.5"), ("199.5", "199.5"), ("两百", "200"), ("零点零五", "0.05")])
def test_decimal_in_chinese_or_digits(text: str, value: str) -> None:
    assert parse_decimal(text) == Decimal(value)


@pytest.mark.parametrize(("value", "text"), [("199.50", "199.5"), ("200", "200"), ("200.00", "200"), ("0.5", "0.5")])
def test_plain_strips_trailing_zeros(value: str, text: str) -> None:
    assert plain(Decimal(value)) == text
