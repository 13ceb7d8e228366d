"""Promises with a time in what the bot or an agent said ("我们会在24小时内给您答复", "预计3个工作日内寄出"),
and when each falls due. Pure: the cue words, units and the working-day calendar are data
(`scripts_zh/aftercare/commitments.yaml`, docs/aftercare.md); the clock is the message's time.

A clause is a promise when it names a time, it or the clause after it names something we do (an action
word), and it carries no mark of a customer's obligation, a policy, a condition or a question ("请您在24小时内
完成支付", "7天无理由退货", "如果超过48小时未发货…", "明天在家吗"), nor follows a condition in its sentence. Hours and minutes are calendar time;
"N个工作日" skips weekends and holidays; a day ("明天", "3天内", "下周三", "15号前") ends at the business's
end of day.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.content.errors import SchemaError
from app.content.yamlio import read_yaml_file

RULES_FILE: Final = "aftercare/commitments.yaml"  # below a pack's scripts folder
_SENTENCE_END = re.compile(r"[。!！?？;；\n]+")
_CLAUSE_END = re.compile(r"[,，、~～]+|\s{2,}")
_DIGITS = re.compile(r"\d+(?:\.\d+)?")
_LATE_TODAY = timedelta(hours=1)
_SEEN_LIMIT = 4096  # texts whose reading is kept (bot phrasings repeat; agents' own lines rarely do)
_Said = tuple[str, str, dict[str, str | None]]  # what is promised, the time as said, the time's named parts  # "today" said after the end of the day: within the hour


@dataclass(frozen=True)
class WorkCalendar:
    """Weekends and holidays off, make-up working days on (调休), in the business's time zone."""

    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    end_of_day: time = time(18, 0)
    holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def closing(self, day: date, at: time | None = None) -> datetime:
        """`day` at `at` (default: the end of the business day), local time, in UTC."""
        return datetime.combine(day, at or self.end_of_day, tzinfo=self.zone).astimezone(UTC)

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The end of the `days`-th working day after `start`'s local day (a Saturday's promise counts from Monday)."""
        day = self.local_day(start)
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return self.closing(day)


@dataclass(frozen=True)
class Promise:
    what: str  # the words that promise ("我们会在24小时内给您答复")
    due_at: datetime  # aware, UTC
    window: str  # the time as said ("24小时内", "3个工作日内", "明天上午")


@dataclass(frozen=True)
class PromiseRules:
    """The cue words and units of `commitments.yaml`, compiled once."""

    calendar: WorkCalendar
    time_pattern: re.Pattern[str]  # one alternative per way of saying a time (see `_time_pattern`)
    time_words: re.Pattern[str]  # the words every time has one of: a cheap test before `time_pattern`
    numerals: Mapping[str, int]
    halves: frozenset[str]
    unit_of: Mapping[str, str]  # unit word → minutes | hours | days | working_days
    day_offset: Mapping[str, int]  # "明天" → 1
    parts_of_day: Mapping[str, time]
    weekday_of: Mapping[str, int]  # "一" → 1 … "日" → 7, after a next-week word ("下周三")
    actions: re.Pattern[str]
    not_promise: re.Pattern[str]
    conditions: re.Pattern[str]  # in an earlier clause of the sentence: what follows is a condition or a policy
    seen: dict[str, tuple[_Said, ...]] = field(default_factory=dict, compare=False, repr=False)  # text → read

    @classmethod
    def from_data(cls, raw: Any, file: str = RULES_FILE) -> PromiseRules:
        """Build from the parsed YAML; a missing or malformed part raises `SchemaError` naming it."""
        if not isinstance(raw, Mapping):
            raise SchemaError("commitments.yaml must be a mapping", file=file, line=1)
        try:
            zone = ZoneInfo(str(raw.get("timezone", "Asia/Shanghai")))
            calendar = WorkCalendar(
                zone=zone,
                end_of_day=time.fromisoformat(str(raw.get("end_of_day", "18:00"))),
                holidays=frozenset(_day(d) for d in raw.get("holidays") or ()),
                extra_workdays=frozenset(_day(d) for d in raw.get("extra_workdays") or ()),
            )
            parts = {str(k): time.fromisoformat(str(v)) for k, v in (raw.get("parts_of_day") or {}).items()}
            numerals = {str(k): int(v) for k, v in (raw.get("numerals") or {}).items()}
            units = {str(word): kind for kind, words in (raw.get("units") or {}).items() for word in words}
            offsets = {str(word): int(n) for n, words in (raw.get("days_from_today") or {}).items() for word in words}
            weekdays = {str(k): int(v) for k, v in (raw.get("weekdays") or {}).items()}
            if not isinstance(raw.get("dates") or {}, Mapping):
                raise TypeError("`dates` must be a mapping of month, day and before words")
        except (ValueError, TypeError, ZoneInfoNotFoundError, AttributeError) as exc:
            raise SchemaError(f"commitments.yaml: {exc}", file=file, line=1) from None
        unknown = sorted(set(units.values()) - {"minutes", "hours", "days", "working_days"})
        if unknown:
            raise SchemaError(f"commitments.yaml: unknown unit kinds {unknown}", file=file, line=1,
                              hint="units are minutes, hours, days, working_days")
        if any(not 1 <= n <= 7 for n in weekdays.values()):
            raise SchemaError("commitments.yaml: weekdays are numbered 1 (Monday) to 7 (Sunday)", file=file, line=1)
        for key in ("actions", "not_promise"):
            if not raw.get(key):
                raise SchemaError(f"commitments.yaml needs a non-empty `{key}` list", file=file, line=1)
        return cls(
            calendar=calendar,
            time_pattern=_time_pattern(raw, numerals, units, offsets, parts),
            time_words=_words([*units, *offsets, *(raw.get("next_week") or []), *((raw.get("dates") or {}).get("day") or [])]),
            numerals=numerals,
            halves=frozenset(str(h) for h in raw.get("half") or ()),
            unit_of=units,
            day_offset=offsets,
            parts_of_day=parts,
            weekday_of=weekdays,
            actions=_words(raw["actions"]),
            not_promise=_words(raw["not_promise"]),
            conditions=_words(framing) if (framing := [*(raw.get("conditions") or []), *(raw.get("policies") or [])])
            else re.compile(r"(?!)"),
        )

    @classmethod
    def load(cls, path: Path) -> PromiseRules:
        return cls.from_data(read_yaml_file(path), str(path))


def load_promise_rules(scripts_dir: Path) -> PromiseRules | None:
    """The pack's promise rules, or None when it has no `aftercare/commitments.yaml` (no promise is read)."""
    path = scripts_dir / RULES_FILE
    return PromiseRules.load(path) if path.exists() else None


def find_promises(text: str, made_at: datetime, rules: PromiseRules) -> list[Promise]:
    """Every promise with a time in `text`, in order, due relative to `made_at` (which must be aware)."""
    if made_at.tzinfo is None or made_at.utcoffset() is None:
        raise ValueError(f"made_at must be timezone-aware, got {made_at!r}")
    found: list[Promise] = []
    for what, window, groups in _promised_times(text, rules):
        due = _due(groups, made_at.astimezone(UTC), rules)  # UTC: hours are elapsed time, whatever the zone
        if due is not None:
            found.append(Promise(what, due, window))
    return found


def _promised_times(text: str, rules: PromiseRules) -> tuple[_Said, ...]:
    """What `text` promises and the time it names, before any clock: the same for every time a line is said,
    so it is kept per text (the bot says the same phrasings over and over, on every turn's hot path)."""
    said = rules.seen.get(text)
    if said is None:
        said = tuple(_read_promises(text, rules))
        if len(rules.seen) >= _SEEN_LIMIT:
            rules.seen.clear()
        rules.seen[text] = said
    return said


def _read_promises(text: str, rules: PromiseRules) -> Iterator[_Said]:
    if not rules.time_words.search(text):
        return  # most lines name no time
    for sentence in _SENTENCE_END.split(text):
        clauses = [c.strip() for c in _CLAUSE_END.split(sentence) if c.strip()]
        for index, clause in enumerate(clauses):
            match = rules.time_pattern.search(clause)
            # The time itself is not a mark: "下周三之前" holds 之前, which elsewhere marks the past.
            if match is None or rules.not_promise.search(_without(clause, match)):
                continue
            if any(rules.conditions.search(earlier) for earlier in clauses[:index]):
                continue  # "如果…,装维人员24小时内上门", "我们支持…,退款将在3至7个工作日内退回": no promise
            following = clauses[index + 1] if index + 1 < len(clauses) else ""
            after_time = clause[match.end():]
            if rules.actions.search(after_time) or rules.actions.search(clause[: match.start()]):
                yield clause, match.group(0), match.groupdict()
            elif following and rules.actions.search(following) and not rules.not_promise.search(following):
                yield f"{clause},{following}", match.group(0), match.groupdict()


# ---------------------------------------------------------------- reading a time


def _without(clause: str, match: re.Match[str]) -> str:
    return clause[: match.start()] + " " + clause[match.end():]


def _due(groups: Mapping[str, str | None], made_at: datetime, rules: PromiseRules) -> datetime | None:
    calendar = rules.calendar
    day = _named_day(groups, calendar.local_day(made_at), rules)
    if day is not None or groups.get("mday") or groups.get("date"):
        if day is None:
            return None  # a date that does not exist ("2月30号")
        part = rules.parts_of_day.get(groups.get("part") or groups.get("wpart") or "")
        due = calendar.closing(day, part)
        return due if due > made_at else made_at + _LATE_TODAY  # said after the day's end: within the hour
    amount = 0.5 if groups.get("half_only") else _amount(groups.get("low"), groups.get("high"), groups.get("half"), rules)
    kind = rules.unit_of.get(groups.get("unit") or "")
    if amount is None or kind is None or amount <= 0:
        return None
    if kind == "minutes":
        return made_at + timedelta(minutes=amount)
    if kind == "hours":
        return made_at + timedelta(hours=amount)
    if kind == "days":
        return calendar.closing(calendar.local_day(made_at) + timedelta(days=round(amount)))
    return calendar.add_working_days(made_at, max(1, round(amount)))


def _named_day(groups: Mapping[str, str | None], today: date, rules: PromiseRules) -> date | None:
    """The local day a day word ("明天"), a next-week day ("下周三"; "下周" alone is its Monday) or a date
    ("15号前", "12月15日前") names; None when the match is not one of those, or the date does not exist."""
    if groups.get("day"):
        return today + timedelta(days=rules.day_offset[groups["day"] or ""])
    if groups.get("week"):
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=1)
        return monday + timedelta(days=rules.weekday_of.get(groups.get("weekday") or "", 1) - 1)
    if groups.get("mday"):
        month = _number(groups.get("month") or "", rules)
        return _next_date(today, month, _number(groups["mday"] or "", rules)) if month is not None else None
    if groups.get("date"):
        return _next_date(today, None, _number(groups["date"] or "", rules))
    return None


def _next_date(today: date, month: float | None, day_of_month: float | None) -> date | None:
    """The first such date from today on: "15号" after the 15th is next month's, "1月5日" in December is
    next year's; None for a date that does not exist."""
    if day_of_month is None or not day_of_month.is_integer() or (month is not None and not month.is_integer()):
        return None
    if month is not None:
        for year in (today.year, today.year + 1):
            try:
                candidate = date(year, int(month), int(day_of_month))
            except ValueError:
                return None
            if candidate >= today:
                return candidate
        return None
    for ahead in range(12):
        years, month_index = divmod(today.month - 1 + ahead, 12)
        try:
            candidate = date(today.year + years, month_index + 1, int(day_of_month))
        except ValueError:
            continue  # "31号" in a 30-day month: the next month that has one
        if candidate >= today:
            return candidate
    return None


def _amount(low: str | None, high: str | None, half: str | None, rules: PromiseRules) -> float | None:
    """The number said (the upper bound of a range: "1-3个工作日" is due after 3), plus a half ("一个半小时")."""
    value = _number(high or low or "", rules)
    if value is None:
        return None
    return value + (0.5 if half else 0)


def _number(text: str, rules: PromiseRules) -> float | None:
    """Arabic digits, or Chinese numerals up to 99 ("二十四", "十五", "两")."""
    if _DIGITS.fullmatch(text):
        return float(text)
    values = [rules.numerals.get(ch) for ch in text]
    if not values or any(v is None for v in values):
        return None
    digits = [v for v in values if v is not None]
    ten = rules.numerals.get("十", 10)
    if ten in digits and len(digits) > 1 and digits.index(ten) in (0, 1):
        tens = digits[0] if digits[0] != ten else 1
        ones = digits[-1] if digits[-1] != ten else 0
        return float(tens * 10 + ones)
    return float(digits[0]) if len(digits) == 1 else None


def _time_pattern(raw: Mapping[str, Any], numerals: Mapping[str, int], units: Mapping[str, str],
                  offsets: Mapping[str, int], parts: Mapping[str, time]) -> re.Pattern[str]:
    """One regular expression for every way of saying a time, with named groups `_due` reads:
    `low`/`high` numbers with a `unit` (and an optional `half`), a `half_only` ("半小时"), a `day` with an
    optional `part` of it, a next `week` with an optional `weekday` and `wpart`, or a date: `month` and
    `mday` ("12月15日"), or a `date` of this or next month said with a "before" word ("15号前")."""
    # A number starts where a digit run starts and takes it whole (possessive): an order number's twelve
    # digits are one failed try, not twelve tries of every length (that was most of a long line's cost).
    number = r"(?:(?<![\d.])\d++(?:\.\d+)?|[" + re.escape("".join(numerals)) + r"]{1,3})"
    separators = _alternatives(raw.get("range_separators") or ["-"])
    counters = _alternatives(raw.get("counters") or [])
    halves = _alternatives(raw.get("half") or [])
    within = _alternatives(raw.get("within") or [])
    amount = (
        rf"(?P<low>{number})(?:\s*(?:{separators})\s*(?P<high>{number}))?\s*(?:{counters})?(?P<half>{halves})?"
        if halves else rf"(?P<low>{number})(?:\s*(?:{separators})\s*(?P<high>{number}))?\s*(?:{counters})?"
    )
    only_half = rf"(?P<half_only>{halves})(?:{counters})?" if halves else r"(?!)"
    units_re = _alternatives(units)
    days = _alternatives(offsets) or r"(?!)"
    parts_re = _alternatives(parts)
    by_amount = rf"(?:{amount}|{only_half})\s*(?P<unit>{units_re})(?:{within})?"
    by_day = rf"(?P<day>{days})(?P<part>{parts_re})?(?:{within})?" if parts else rf"(?P<day>{days})(?:{within})?"
    return re.compile("|".join([_by_week(raw, parts_re, within), _by_date(raw, number, within), by_amount, by_day]))


def _by_week(raw: Mapping[str, Any], parts_re: str, within: str) -> str:
    """"下周三(上午)(之前)", or "下周" alone."""
    weeks = _alternatives(raw.get("next_week") or []) or r"(?!)"
    weekdays = _alternatives(raw.get("weekdays") or {}) or r"(?!)"
    before = _alternatives((raw.get("dates") or {}).get("before") or [])
    part = rf"(?P<wpart>{parts_re})?" if parts_re else ""
    return rf"(?P<week>{weeks})(?P<weekday>{weekdays})?{part}(?:{before}|{within})?"


def _by_date(raw: Mapping[str, Any], number: str, within: str) -> str:
    """"12月15日(前)", or "15号前" (a bare "3号" is as likely a building, "3日" a count of days)."""
    words = raw.get("dates") or {}
    month = _alternatives(words.get("month") or []) or r"(?!)"
    day = _alternatives(words.get("day") or []) or r"(?!)"
    before = _alternatives(words.get("before") or []) or r"(?!)"
    with_month = rf"(?P<month>{number})(?:{month})(?P<mday>{number})(?:{day})(?:{before}|{within})?"
    return rf"{with_month}|(?P<date>{number})(?:{day})(?:{before})"


def _alternatives(words: Any) -> str:
    items = sorted((str(w) for w in words), key=len, reverse=True)  # longest first: 个工作日 before 日
    return "|".join(re.escape(w) for w in items)


def _words(words: Sequence[Any]) -> re.Pattern[str]:
    return re.compile(_alternatives(words))


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
