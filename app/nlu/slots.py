"""Slot extraction: order ids, phones, e-mails, dates, product models and amounts.

A digit run fills at most one slot. E-mails are taken first; then each number is classified by its
shape and left context, in this precedence: after an order marker it is an order id (订单号
13812345678 is an order), a mainland mobile / landline / 400 number is a phone, any other run of
9-20 digits is an order id. Claimed spans are blanked before amounts, dates and product models are
looked for, so an order id never becomes a date or a model. Vocabulary (series names, markers,
exclusions) comes from `data/slots.yaml`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any, Final

from app.nlu.analysis import SLOT_NAMES
from app.nlu.dates import DateFinder
from app.nlu.numerals import parse_decimal, plain
from app.nlu.resources import DataError
from app.pii import is_personal_number

_PLACEHOLDER_SLOTS: Final = {
    "[订单x]": "order_id", "[电话x]": "phone", "[手机x]": "phone", "[邮箱x]": "email", "[金额x]": "amount",
}
_DIGIT_RUN: Final = re.compile(r"[0-9]+")
PERSONAL: Final = "personal"  # a number claimed so no other slot reads it, and dropped (app/pii.py)
_EMAIL: Final = re.compile(r"[a-z0-9][a-z0-9._%+\-]*@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}")
# A number as customers type it: a digit run, hyphenated (010-12345678, 400-800-8888) or a mobile
# grouped 3-4-4 with spaces; `_classify_number` decides what it is from its shape and left context.
_NUMBER_TOKEN: Final = re.compile(
    r"(?<![0-9a-z])(?:\+?86[- ]?)?1[3-9][0-9][- ][0-9]{4}[- ][0-9]{4}(?![0-9])"
    r"|(?<![0-9a-z.])[0-9]+(?:-[0-9]+)*"
)
_MOBILE: Final = re.compile(r"1[3-9][0-9]{9}")
_LANDLINE: Final = re.compile(r"0[0-9]{2,3}-[0-9]{7,8}")
_SERVICE_LINE: Final = re.compile(r"[48]00[0-9]{7}")
_MARKER_JOINERS: Final = " :#是为"
_AMOUNT_PREFIXED: Final = re.compile(r"(?:¥|rmb|人民币)\s*([0-9]+(?:\.[0-9]+)?)")
_AMOUNT_SUFFIXED: Final = re.compile(r"(?<![0-9.])([0-9]+(?:\.[0-9]+)?)\s*(万)?\s*(元|块钱|块|rmb|人民币)")
_AMOUNT_CHINESE: Final = re.compile(
    r"([零一二两三四五六七八九十百千万点]+)(元|块钱|块)([一二三四五六七八九])?"
)
_LATIN: Final = re.compile(r"[a-z]")
_MODEL_FIELD: Final = re.compile(r"型号\s*(?:是|为|:)?\s*([a-z0-9]+(?:[-/][a-z0-9]+)*)")
_CODE: Final = re.compile(r"(?<![a-z0-9@._\-])([a-z]{1,6})(-?)([0-9][a-z0-9]*(?:-[a-z0-9]+)*)(?![a-z0-9@])")


class SlotExtractor:
    """Extracts the slots `Analysis.slots` holds, from normalised text."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._dates = DateFinder(_strings(config, "bare_day_exclusions"))
        self._measure_nouns = tuple(_strings(config, "measure_nouns"))
        self._order_markers = tuple(_strings(config, "order_markers"))
        self._phone_markers = tuple(_strings(config, "phone_markers"))
        product = config["product"]
        self._series: dict[str, tuple[str, bool]] = {
            str(name): (str(spec["canonical"]), bool(spec["latin"]))
            for name, spec in product["series"].items()
        }
        self._cjk_series = tuple(name for name, (_, latin) in self._series.items() if not latin)
        self._suffixes = {str(k): str(v) for k, v in product["suffixes"].items()}
        self._code_words = {str(k): str(v) for k, v in product["code_words"].items()}
        self._code_stoplist = frozenset(str(w) for w in product["code_stoplist"])
        names = "|".join(sorted(map(re.escape, self._series), key=len, reverse=True))
        suffixes = "|".join(sorted(map(re.escape, self._suffixes), key=len, reverse=True))
        self._suffix_words = re.compile(suffixes)
        # series, then a number ("15", "s24", "k70", "60e": a trailing letter only when it is not the
        # start of a word such as "pro"), then suffix words, which may be run together ("15promax").
        self._series_pattern = re.compile(
            rf"(?<![a-z])({names})\s*((?:[a-z])?[0-9]{{1,4}}(?![0-9])(?:[a-z](?![a-z]))?)?"
            rf"((?:\s*(?:{suffixes})(?:(?![a-z])|(?=(?:{suffixes}))))*)"
        )

    def extract(self, text: str, today: date) -> dict[str, str]:
        """Slots present in `text`, in `SLOT_NAMES` order; dates resolved against `today`."""
        found: dict[str, str] = {}
        if "[" in text:
            for token, slot in _PLACEHOLDER_SLOTS.items():
                if token in text and slot not in found:
                    found[slot] = token
        masked = text
        if "@" in text:
            email = _EMAIL.search(masked)
            if email:
                found["email"] = email.group(0)
                masked = masked[:email.start()] + " " * len(email.group(0)) + masked[email.end():]
        runs = _DIGIT_RUN.findall(masked)
        # Only a long digit run (or a grouped one: 138 1234 5678) can be an order id or a phone.
        if len(runs) >= 3 or any(len(run) >= 6 for run in runs):
            masked = self._numbers(masked, found)
        if "amount" not in found and _has_money_marker(masked):
            self._amount(masked, found)
        when = self._dates.find(masked, today)
        if when is not None:
            found["date"] = when
        if _LATIN.search(masked) or (runs and any(name in masked for name in self._cjk_series)):
            model = self._model(masked)
            if model is not None:
                found["product_model"] = model
        if len(found) < 2:
            return found
        return {name: found[name] for name in SLOT_NAMES if name in found}

    def _numbers(self, text: str, found: dict[str, str]) -> str:
        """Claim order ids and phone numbers among the number tokens; return text with them blanked."""
        claimed: list[tuple[int, int]] = []
        for match in _NUMBER_TOKEN.finditer(text):
            slot, value = self._classify_number(text, match)
            if slot is None:
                continue
            claimed.append(match.span())
            if slot not in found and slot != PERSONAL:
                found[slot] = value
        for start, end in claimed:
            text = text[:start] + " " * (end - start) + text[end:]
        return text

    def _classify_number(self, text: str, match: re.Match[str]) -> tuple[str | None, str]:
        token = match.group(0)
        digits = token.replace("-", "").replace(" ", "").lstrip("+")
        check = text[match.end():match.end() + 1]  # an ID number may end in X, which the token leaves out
        if is_personal_number(digits) or (len(digits) == 17 and check in "xX" and check and is_personal_number(digits + "X")):
            return PERSONAL, digits  # an ID or bank card number: claimed, never kept as a slot
        before = text[max(0, match.start() - 8):match.start()].rstrip(_MARKER_JOINERS)
        if before.endswith(self._order_markers) and 6 <= len(digits) <= 20:
            return "order_id", digits
        if len(digits) == 13 and digits.startswith("86"):
            digits = digits[2:]
        if _MOBILE.fullmatch(digits):
            return "phone", digits
        if _LANDLINE.fullmatch(token):
            return "phone", token
        if _SERVICE_LINE.fullmatch(digits):
            return "phone", f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
        if before.endswith(self._phone_markers) and digits.startswith("0") and 10 <= len(digits) <= 12:
            return "phone", digits
        if token.isdigit() and 9 <= len(token) <= 20:
            return "order_id", token
        return None, token

    def _amount(self, text: str, found: dict[str, str]) -> None:
        candidates: list[tuple[int, Decimal]] = []
        match = _AMOUNT_PREFIXED.search(text)
        if match:
            candidates.append((match.start(), Decimal(match.group(1))))
        for match in _AMOUNT_SUFFIXED.finditer(text):
            if self._is_count(text, match):
                continue
            value = Decimal(match.group(1)) * (10_000 if match.group(2) else 1)
            candidates.append((match.start(), value))
            break
        for match in _AMOUNT_CHINESE.finditer(text):
            if self._is_count(text, match):
                continue
            number = parse_decimal(match.group(1))
            if number is None:
                continue
            if match.group(3):  # 三块五 = 3.5
                number += (parse_decimal(match.group(3)) or Decimal(0)) / 10
            candidates.append((match.start(), number))
            break
        if candidates:
            found["amount"] = plain(min(candidates, key=lambda c: c[0])[1])

    def _is_count(self, text: str, match: re.Match[str]) -> bool:
        """"两块屏幕" counts things; 块 is money only when no countable noun follows."""
        return "块" in match.group(0) and text.startswith(self._measure_nouns, match.end())

    def _model(self, text: str) -> str | None:
        candidates: list[tuple[int, int, str]] = []
        field = _MODEL_FIELD.search(text)
        if field:
            candidates.append((field.start(1), 0, self._canonical_code(field.group(1))))
        for match in self._series_pattern.finditer(text):
            name, number, suffixes = match.groups()
            canonical, latin = self._series[name]
            if not number and (not suffixes.strip() or not latin):
                continue
            parts = [canonical + (" " if latin and number else "") + (number or "").upper()]
            parts += [self._suffixes[word] for word in self._suffix_words.findall(suffixes)]
            candidates.append((match.start(), 1, " ".join(parts)))
            break
        for match in _CODE.finditer(text):
            letters, _, rest = match.groups()
            digits = sum(c.isdigit() for c in rest)
            if letters in self._code_stoplist or len(match.group(0)) < 3:
                continue
            if digits >= 9 and len(letters) <= 3:  # courier tracking numbers (sf1234567890)
                continue
            candidates.append((match.start(), 2, self._canonical_code(match.group(0))))
            break
        return min(candidates)[2] if candidates else None

    def _canonical_code(self, code: str) -> str:
        return "-".join(self._code_words.get(part, part.upper()) for part in code.split("-"))


def _has_money_marker(text: str) -> bool:
    return "元" in text or "块" in text or "¥" in text or "rmb" in text or "人民币" in text


def _strings(config: Mapping[str, Any], key: str) -> list[str]:
    values = config.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise DataError(f"slots.yaml: {key!r} must be a list of strings (quote yes/no/on/off)")
    return values
