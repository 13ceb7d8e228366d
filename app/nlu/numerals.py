"""Chinese numerals ("一百五十", "两千二", "三点五") as numbers, for amounts and relative dates."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Final

_DIGITS: Final = {
    "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}
_UNITS: Final = {"十": 10, "百": 100, "千": 1000}
_MYRIAD: Final = {"万": 10_000, "亿": 100_000_000}
NUMERAL_CHARS: Final = "".join(_DIGITS) + "".join(_UNITS) + "".join(_MYRIAD)


def parse_integer(text: str) -> int | None:
    """An integer written in Arabic digits or Chinese numerals; None if `text` is not one.

    Colloquial elision is understood: "一百五" is 150 and "两千二" is 2200.
    """
    if not text:
        return None
    if text.isdigit():
        return int(text)
    total = 0
    section = 0
    number: int | None = None
    last_unit = 0
    zero_seen = False
    for char in text:
        if char in _DIGITS:
            digit = _DIGITS[char]
            zero_seen = zero_seen or digit == 0
            number = digit
        elif char in _UNITS:
            unit = _UNITS[char]
            section += (1 if number is None else number) * unit
            number = None
            last_unit = unit
            zero_seen = False
        elif char in _MYRIAD:
            section += number or 0
            total += (section or 1) * _MYRIAD[char]
            section = 0
            number = None
            last_unit = _MYRIAD[char]
            zero_seen = False
        else:
            return None
    if number is not None:
        # "一百五" means 150: a trailing digit right after 百/千 is one unit lower, unless 零 intervened.
        if last_unit >= 100 and not zero_seen:
            number *= last_unit // 10
        section += number
    return total + section


def parse_decimal(text: str) -> Decimal | None:
    """A decimal number in digits ("199.5") or Chinese numerals ("三点五")."""
    if not text:
        return None
    try:
        if text.replace(".", "", 1).isdigit():
            return Decimal(text)
    except InvalidOperation:
        return None
    whole, _, fraction = text.partition("点")
    integer = parse_integer(whole)
    if integer is None:
        return None
    if not fraction:
        return Decimal(integer)
    decimals = "".join(str(_DIGITS[c]) if c in _DIGITS else c for c in fraction)
    if not decimals.isdigit():
        return None
    return Decimal(f"{integer}.{decimals}")


def plain(number: Decimal) -> str:
    """A decimal as a plain string without exponent or trailing zeros: 199.50 → "199.5", 200 → "200"."""
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
