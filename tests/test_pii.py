"""Finding full personal numbers: check digits and Luhn keep order numbers out; masks never match."""

from __future__ import annotations

import pytest

from app.pii import find_exposures, is_personal_number, mask, mask_all


def kinds(text: str) -> list[str]:
    return [e.kind for e in find_exposures(text)]


def test_mobile_numbers_with_or_without_separators() -> None:
    assert kinds("电话13812345678") == ["phone"]
    assert kinds("电话 138-1234-5678 或 +86 139 1234 5678") == ["phone", "phone"]


def test_full_width_digits_are_found_at_their_own_offsets() -> None:
    text = "手机１３８１２３４５６７８"
    (exposure,) = find_exposures(text)
    assert (exposure.start, exposure.end, exposure.masked) == (2, 13, "138****5678")


def test_id_cards_need_a_valid_check_digit() -> None:
    assert kinds("身份证11010519491231002X") == ["id_card"]
    assert kinds("身份证110105194912310021") == []  # wrong check digit: an ordinary 18-digit number


def test_bank_cards_need_the_luhn_check() -> None:
    assert kinds("卡号6222 0200 0000 0000 008") == []
    assert kinds("卡号4111 1111 1111 1111") == ["bank_card"]
    assert kinds("卡号4111111111111112") == []


def test_masked_and_partial_numbers_never_match() -> None:
    assert kinds("138****5678, 尾号5678, 6222********1234, 1381234567") == []


def test_longer_digit_runs_are_not_split_into_phone_numbers() -> None:
    assert kinds("单号1381234567890123") == []


def test_mask_keeps_three_leading_and_four_trailing_digits() -> None:
    assert mask("13812345678") == "138****5678"
    assert mask("4111 1111 1111 1111") == "411* **** **** 1111"


# ---------------------------------------------------------------- masking misses nothing (issue 16 item 8)


@pytest.mark.parametrize(("text", "masked"), [
    ("邮箱zhang.san@example.com", "邮箱z********@example.com"),
    ("身份证110105194912310021", "身份证110***********0021"),  # a wrong check digit is still an ID number
    ("电话138.1234.5678", "电话138.****.5678"),
    ("电话138 1234 5678", "电话138 **** 5678"),
    ("手机一三八一二三四五六七八", "手机138****5678"),  # dictated in Chinese numerals
    ("手机幺三八一二三四五六七八", "手机138****5678"),
])
def test_mask_all_masks_every_shape_of_personal_data(text: str, masked: str) -> None:
    assert mask_all(text) == masked
    assert len(mask_all(text)) == len(text)  # offsets stay


def test_mask_all_leaves_order_numbers_amounts_and_prose() -> None:
    text = "订单202611180001,共三件,二百元,退到原卡"
    assert mask_all(text) == text


def test_reporting_stays_strict_where_masking_is_cautious() -> None:
    assert kinds("身份证110105194912310021") == []  # pii.exposed does not report a wrong check digit


@pytest.mark.parametrize(("digits", "personal"), [
    ("110105194912310021", True), ("11010519491231002X", True), ("4111111111111111", True),
    ("202611180001", False), ("4111111111111112", False), ("123456789012345678", False),
])
def test_personal_numbers_are_id_card_shaped_or_pass_luhn(digits: str, personal: bool) -> None:
    assert is_personal_number(digits) is personal
