"""Full personal numbers in a text: mainland mobile phones, resident ID cards, bank cards (and, for
masking, e-mail addresses). Pure; shared by the NLU (never file a card or ID number as an order id),
the exports (masked by default) and QA (reports quote turns; `mask_all` keeps them from spreading the
numbers they warn about).

Masked numbers (138****1234) never match: a `*` next to the digits breaks them. ID cards must pass the
GB 11643 check digit and bank cards the Luhn check, so order and tracking numbers rarely pass for them;
a number right after an order word ("订单", configured in the rules file) is not reported at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

KINDS: Final = ("phone", "id_card", "bank_card")
# Full-width digits and Chinese numerals as a number is dictated (一三八…, 幺 for 1) are folded to ASCII
# first; the fold maps one character to one, so it keeps every offset.
_FOLD: Final = str.maketrans("０１２３４５６７８９＊零〇一二三四五六七八九幺两", "0123456789*0012345678912")
_EDGE = r"(?<![0-9A-Za-z*])"
_END = r"(?![0-9A-Za-z*])"
_PATTERNS: Final = (
    ("id_card", re.compile(_EDGE + r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]" + _END)),
    ("phone", re.compile(_EDGE + r"(?:\+?86[ .-]?)?1[3-9]\d[ .-]?\d{4}[ .-]?\d{4}" + _END)),
    ("bank_card", re.compile(_EDGE + r"\d(?:[ -]?\d){15,18}" + _END)),
)
_ANY_NUMBER: Final = re.compile(r"\d(?:[ .-]?\d){10}")  # every kind has 11+ digits: most texts stop here (on the fold)
_ID_SHAPE: Final = re.compile(_EDGE + r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]" + _END)
_EMAIL: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK: Final = "10X98765432"


@dataclass(frozen=True, slots=True)
class Exposure:
    kind: str
    start: int
    end: int
    masked: str


def find_exposures(text: str, kinds: frozenset[str] = frozenset(KINDS), *, loose: bool = False) -> Iterator[Exposure]:
    """Every full phone, ID card or bank card number in `text`, in order, without overlaps.

    `loose`: an ID card number need not pass its check digit (a mistyped one is still someone's ID
    number): for masking, which must not miss; reporting (`pii.exposed`) stays strict.
    """
    folded = text.translate(_FOLD)
    if _ANY_NUMBER.search(folded) is None:
        return
    taken: list[tuple[int, int]] = []
    found: list[Exposure] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(folded):
            start, end = match.span()
            if any(start < e and s < end for s, e in taken):
                continue
            digits = re.sub(r"[^0-9Xx]", "", match.group())
            if kind == "id_card" and not (loose or _valid_id_card(digits)):
                continue
            if kind == "bank_card" and not _luhn(digits):
                continue
            taken.append((start, end))
            if kind in kinds:
                found.append(Exposure(kind, start, end, mask(match.group())))
    yield from sorted(found, key=lambda e: e.start)


def mask_all(text: str) -> str:
    """`text` with every full personal number and e-mail address masked; the length and all offsets stay
    the same."""
    exposures = list(find_exposures(text, loose=True))
    for exposure in reversed(exposures):
        text = text[: exposure.start] + exposure.masked + text[exposure.end :]
    if "@" in text:
        text = _EMAIL.sub(lambda m: _mask_email(m.group()), text)
    return text


def is_personal_number(digits: str) -> bool:
    """An ID card number (by its shape: birth date, 18 characters) or a bank card number (16–19 digits
    passing Luhn): never an order id to keep or to say back."""
    if len(digits) == 18 and _ID_SHAPE.fullmatch(digits):
        return True
    return 16 <= len(digits) <= 19 and _luhn(digits)


def _mask_email(address: str) -> str:
    """z******@example.com: the first character and the domain stay (the length too)."""
    local, _, domain = address.partition("@")
    return local[:1] + "*" * (len(local) - 1) + "@" + domain


def mask_part(value: str, text: str) -> str:
    """`value`, something the NLU took from `text` (a slot), masked as `mask_all(text)` shows it.

    The NLU files a number by its shape and context, not by `find_exposures`: an ID card number ending in X
    becomes a 17-digit `order_id`. So a value lying inside a personal number of `text` is cut from that
    number's mask; any other value (an order id, an e-mail) is left as `mask_all` leaves it. A value of at
    most 7 digits shows no more than a mask does (3 + 4) and is not looked for.
    """
    digits = _digits(value)
    if len(digits) > 7:
        for exposure in find_exposures(text):
            whole = _digits(text[exposure.start : exposure.end])
            at = whole.find(digits)
            if at >= 0:
                shown = re.sub(r"[^0-9Xx*]", "", exposure.masked)  # the mask hides digits one for one
                return shown[at : at + len(digits)]
    return mask_all(value)


def mask(number: str) -> str:
    """Keep the first 3 and last 4 digits: 13812345678 → 138****5678."""
    positions = [i for i, ch in enumerate(number) if ch.isdigit() or ch in "Xx" or ch.translate(_FOLD).isdigit()]
    hidden = set(positions[3:-4])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(number))


def _digits(text: str) -> str:
    return re.sub(r"[^0-9Xx]", "", text.translate(_FOLD))


def _valid_id_card(digits: str) -> bool:
    if len(digits) != 18 or not digits[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == digits[17].upper()


def _luhn(digits: str) -> bool:
    if not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0
