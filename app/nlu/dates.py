"""Dates in customer messages, resolved against the caller's `today` to ISO `YYYY-MM-DD`.

Absolute (2026-11-20, 2026年11月20日, 11月20号, 11/20), relative (今天, 前天, 上周三, 三天前,
上个月5号) and bare days of this month (20号). The earliest resolvable mention in the text wins.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Final, NamedTuple

from app.nlu.numerals import parse_integer

_NUM: Final = r"[0-9一二两三四五六七八九十]{1,3}"
_DAY_WORDS: Final = {
    word: timedelta(days=offset)  # built once: constructing a timedelta costs ~0.5 µs
    for word, offset in {
        "大前天": -3, "前天": -2, "昨天": -1, "昨日": -1, "昨儿": -1, "今天": 0, "今日": 0, "今儿": 0,
        "明天": 1, "明日": 1, "明儿": 1, "后天": 2, "大后天": 3,
    }.items()
}
_WEEK_PREFIX: Final = {"上上": -14, "上": -7, "这": 0, "本": 0, "": 0, "下": 7, "下下": 14}
_WEEKDAY: Final = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6,
                   "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
_MONTH_PREFIX: Final = {"上上": -2, "上": -1, "这": 0, "本": 0, "下": 1}
_YEAR_WORDS: Final = {"去年": -1, "今年": 0, "明年": 1}
_UNIT_DAYS: Final = {"天": 1, "日": 1, "周": 7, "星期": 7, "礼拜": 7}
_DIGITS: Final = frozenset("0123456789")
_NUMERAL_CHARS: Final = frozenset("0123456789一二两三四五六七八九十")
_NOT_BEFORE_BARE_DAY: Final = frozenset("0123456789月/.-")
# Characters without which no date can be present; each form is gated on the ones it needs.
_TRIGGERS: Final = re.compile(r"[天日号月周期拜儿前后/\-.]")
# Every pattern starts with a literal or a character class so `re` can skip ahead quickly; the
# left-context checks ("not after a digit", "上个月") are done in Python on the found match.
_ISO: Final = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?![0-9])")
_MONTH_DAY: Final = re.compile(rf"({_NUM})月({_NUM})(?:日|号)?(?![0-9])")
_YEAR_BEFORE: Final = re.compile(r"(?:(?<![0-9])(\d{4})年|(去年|今年|明年))$")
_NEAR_MONTH: Final = re.compile(rf"(上上|上|这|本|下)个?月({_NUM})(?:日|号)")
_OFFSET: Final = re.compile(
    r"(\d{1,3}|[一二两三四五六七八九十]{1,3})个?(天|日|周|星期|礼拜|月)(?:以|之)?(前|后)"
)
_WEEKDAY_NAME: Final = re.compile(r"(?:周|星期|礼拜)([一二三四五六日天1-7])")
_WEEK_BEFORE: Final = re.compile(r"(每|上上|上|下下|下|这|本)?个?$")
_DAY_WORD: Final = re.compile("|".join(sorted(_DAY_WORDS, key=len, reverse=True)))
_SLASH: Final = re.compile(r"(\d{1,2})/(\d{1,2})(?![0-9/])")


class _Found(NamedTuple):
    start: int
    day: date


_Form = Callable[[str, date], "_Found | None"]


def _add_months(day: date, months: int, day_of_month: int | None = None) -> date:
    """`day` moved by whole months; without an explicit day it is clamped (Jan 31 + 1 → Feb 28)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    length = calendar.monthrange(year, month + 1)[1]
    if day_of_month is None:
        return date(year, month + 1, min(day.day, length))
    return date(year, month + 1, day_of_month)  # ValueError for 上个月31号 in a 30-day month


def _after_digit(text: str, start: int) -> bool:
    return start > 0 and text[start - 1] in _DIGITS


class DateFinder:
    """Finds the first date mention; `bare_day_exclusions` are what may follow "5号" in non-dates."""

    def __init__(self, bare_day_exclusions: Iterable[str]) -> None:
        self._bare_exclusions = tuple(bare_day_exclusions)
        # (gate, form): a form runs only when the text contains one of its gate characters.
        self._forms: tuple[tuple[frozenset[str], _Form], ...] = (
            (frozenset("-/."), self._iso),
            (frozenset("月"), self._month_day),
            (frozenset("月"), self._near_month),
            (frozenset("前后"), self._offset),
            (frozenset("周期拜"), self._weekday),
            (frozenset("天日儿"), self._day_word),
            (frozenset("/"), self._slash),
            (frozenset("号日"), self._bare),
        )

    def find(self, text: str, today: date) -> str | None:
        """ISO date of the earliest resolvable mention in normalised `text`, or None."""
        # Collect the few trigger characters once; testing gates against the whole string would
        # build a string object per character per gate (~0.7 µs each).
        chars = set(_TRIGGERS.findall(text))
        if not chars:
            return None
        best: _Found | None = None
        for gate, form in self._forms:
            if gate.isdisjoint(chars):
                continue
            try:
                found = form(text, today)
            except OverflowError:  # "明天" relative to 9999-12-31: no such date, so no slot
                continue
            if found is not None and (best is None or found.start < best.start):
                best = found
        return None if best is None else best.day.isoformat()

    @staticmethod
    def _first(pattern: re.Pattern[str], text: str, today: date,
               resolve: Callable[[re.Match[str], date], date | None]) -> _Found | None:
        """First match that resolves to a real date (2月30日 and 13/45 are skipped)."""
        for match in pattern.finditer(text):
            try:
                resolved = resolve(match, today)
            except ValueError:
                continue
            if resolved is not None:
                return _Found(match.start(), resolved)
        return None

    def _iso(self, text: str, today: date) -> _Found | None:
        def resolve(m: re.Match[str], _: date) -> date | None:
            return None if _after_digit(text, m.start()) else date(int(m[1]), int(m[2]), int(m[3]))
        return self._first(_ISO, text, today, resolve)

    def _month_day(self, text: str, today: date) -> _Found | None:
        for match in _MONTH_DAY.finditer(text):
            if _after_digit(text, match.start()):
                continue
            year_match = _YEAR_BEFORE.search(text, max(0, match.start() - 5), match.start())
            year = today.year
            start = match.start()
            if year_match:
                year = int(year_match[1]) if year_match[1] else today.year + _YEAR_WORDS[year_match[2]]
                start = year_match.start()
            month, day = parse_integer(match[1]), parse_integer(match[2])
            try:
                if month is not None and day is not None:
                    return _Found(start, date(year, month, day))
            except ValueError:
                continue
        return None

    def _near_month(self, text: str, today: date) -> _Found | None:
        def resolve(m: re.Match[str], now: date) -> date | None:
            day = parse_integer(m[2])
            return None if day is None else _add_months(now.replace(day=1), _MONTH_PREFIX[m[1]], day)
        return self._first(_NEAR_MONTH, text, today, resolve)

    def _offset(self, text: str, today: date) -> _Found | None:
        def resolve(m: re.Match[str], now: date) -> date | None:
            count = parse_integer(m[1])
            if count is None or (m[1].isdigit() and _after_digit(text, m.start())):
                return None
            sign = -1 if m[3] == "前" else 1
            if m[2] == "月":
                return _add_months(now, sign * count)
            return now + timedelta(days=sign * count * _UNIT_DAYS[m[2]])
        return self._first(_OFFSET, text, today, resolve)

    def _weekday(self, text: str, today: date) -> _Found | None:
        for match in _WEEKDAY_NAME.finditer(text):
            prefix = _WEEK_BEFORE.search(text, max(0, match.start() - 3), match.start())
            word = prefix[1] if prefix and prefix[1] else ""
            if word == "每":  # 每周三 is a schedule, not a date
                continue
            monday = today - timedelta(days=today.weekday())
            start = prefix.start(1) if prefix and prefix[1] else match.start()
            return _Found(start, monday + timedelta(days=_WEEK_PREFIX[word] + _WEEKDAY[match[1]]))
        return None

    def _day_word(self, text: str, today: date) -> _Found | None:
        match = _DAY_WORD.search(text)
        return None if match is None else _Found(match.start(), today + _DAY_WORDS[match[0]])

    def _slash(self, text: str, today: date) -> _Found | None:
        def resolve(m: re.Match[str], now: date) -> date | None:
            if m.start() > 0 and text[m.start() - 1] in "0123456789/":
                return None
            return date(now.year, int(m[1]), int(m[2]))
        return self._first(_SLASH, text, today, resolve)

    def _bare(self, text: str, today: date) -> _Found | None:
        # Anchored on 号/日 and walked backwards: a regex would retry at every digit of a long
        # order number ("订单号123456789012") before failing.
        best: _Found | None = None
        for marker in "号日":
            position = text.find(marker)
            while position != -1 and (best is None or position < best.start):
                start = position
                while start > 0 and position - start < 3 and text[start - 1] in _NUMERAL_CHARS:
                    start -= 1
                if (start < position and (start == 0 or text[start - 1] not in _NOT_BEFORE_BARE_DAY)
                        and not text.startswith(self._bare_exclusions, position + 1)):
                    day = parse_integer(text[start:position])
                    try:
                        if day is not None:
                            best = _Found(start, date(today.year, today.month, day))
                            break
                    except ValueError:
                        pass
                position = text.find(marker, position + 1)
        return best
