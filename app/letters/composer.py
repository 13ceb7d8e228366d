"""Composing a letter from a template and what is known (slots and the pack's facts), and rendering it.

Pure: no I/O. `compose` either returns a whole letter or raises `MissingFacts` naming every slot a
required part lacks — a letter never goes out with a `{placeholder}` in it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from app.content.model import Template
from app.letters.templates import KINDS, LetterBook, LetterSettings

FORMATS: Final = ("text", "markdown", "html", "json")
DEFAULTS_FROM_FACTS: Final = {"company": "company_name", "department": "service_name"}
_ISO_DATE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}")
# Paragraphs of prose end with a full stop even when a slot value ("为您免费更换新机") did not bring one;
# the salutation, valediction and signature have their own line endings.
PROSE_PARTS: Final = frozenset({"opening", "apology", "attention", "investigation", "body", "solution", "improvement", "closing"})
FULL_STOPS: Final = ("。", "!", "?", "…", ":", "!", "?")
FULL_STOP: Final = "。"


class MissingFacts(ValueError):
    """The letter needs facts nobody gave; `missing` names them (slot names), `described` says what they are."""

    def __init__(self, kind: str, missing: tuple[str, ...], described: dict[str, str]) -> None:
        self.kind = kind
        self.missing = missing
        self.described = described
        super().__init__(f"a {kind} letter needs: " + ", ".join(f"{name} ({described.get(name, name)})" for name in missing))

    def to_dict(self) -> dict[str, Any]:
        return {"error": "missing_facts", "kind": self.kind, "missing": list(self.missing),
                "described": {name: self.described.get(name, name) for name in self.missing}}


class UnknownKind(ValueError):
    def __init__(self, kind: str, known: tuple[str, ...]) -> None:
        self.kind = kind
        self.known = known
        super().__init__(f"unknown letter kind {kind!r}; kinds are: {', '.join(known)}")


@dataclass(frozen=True, slots=True)
class Letter:
    kind: str
    name: str
    subject: str
    subject_label: str
    parts: tuple[tuple[str, str], ...]  # (part name, text), in the template's order

    def to_text(self) -> str:
        return "\n\n".join([f"{self.subject_label}:{self.subject}", *(text for _, text in self.parts)]) + "\n"

    def to_markdown(self) -> str:
        paragraphs = [text.replace("\n", "  \n") for _, text in self.parts]
        return "\n\n".join([f"**{self.subject_label}:{self.subject}**", *paragraphs]) + "\n"

    def to_html(self) -> str:
        body = "\n".join(
            f'  <p class="{part}">{html.escape(text).replace(chr(10), "<br>")}</p>' for part, text in self.parts
        )
        return (f'<article class="letter {self.kind}" lang="zh-CN">\n  <h1>{html.escape(self.subject)}</h1>\n'
                f"{body}\n</article>\n")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "subject": self.subject,
                "parts": [{"part": part, "text": text} for part, text in self.parts], "text": self.to_text()}

    def render(self, fmt: str) -> str:
        if fmt == "markdown":
            return self.to_markdown()
        if fmt == "html":
            return self.to_html()
        if fmt == "json":
            import json

            return json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n"
        return self.to_text()


def compose(book: LetterBook, kind: str, slots: Mapping[str, str], facts: Mapping[str, str], *,
            today: date) -> Letter:
    """The letter of `kind` from `slots` (they win over facts), the pack's facts and the defaults."""
    settings = book.settings
    template = book.templates.get(kind)
    if template is None:
        raise UnknownKind(kind, tuple(sorted(book.templates, key=_kind_order)))
    values = _values(slots, facts, today, settings)
    missing: list[str] = []
    subject = _fill(template.subject, values)
    if subject is None:
        missing += _lacking(template.subject[-1], values)
    parts: list[tuple[str, str]] = []
    for part in template.parts:
        text = _fill(part.alternatives, values)
        if text is not None:
            if part.name in PROSE_PARTS and not text.endswith(FULL_STOPS):
                text += FULL_STOP
            parts.append((part.name, text))
        elif not part.optional:
            missing += _lacking(part.alternatives[-1], values)
    if missing or subject is None:
        raise MissingFacts(kind, tuple(dict.fromkeys(missing)), book.slots)
    return Letter(template.kind, template.name, subject, settings.subject_label, tuple(parts))


def format_date(value: date, settings: LetterSettings) -> str:
    return settings.date_format.format(year=value.year, month=value.month, day=value.day)


def _values(slots: Mapping[str, str], facts: Mapping[str, str], today: date, settings: LetterSettings) -> dict[str, str]:
    values = dict(facts)
    for slot, fact in DEFAULTS_FROM_FACTS.items():
        if fact in facts:
            values[slot] = facts[fact]
    values["letter_date"] = format_date(today, settings)
    for name, value in slots.items():
        if isinstance(value, str) and value.strip():
            values[name] = _as_written_date(value.strip(), settings) if name.endswith("_date") else value.strip()
    return values


def _as_written_date(value: str, settings: LetterSettings) -> str:
    """An ISO date ("2026-11-18") is written the letter's way; any other wording is kept as given."""
    if _ISO_DATE.match(value):
        try:
            return format_date(date.fromisoformat(value[:10]), settings)
        except ValueError:
            return value
    return value


def _fill(alternatives: tuple[Template, ...], values: Mapping[str, str]) -> str | None:
    for template in alternatives:
        text, missing = template.render(values)
        if not missing:
            return text
    return None


def _lacking(template: Template, values: Mapping[str, str]) -> list[str]:
    return [name for name in template.parts[1::2] if not values.get(name)]


def _kind_order(kind: str) -> int:
    return KINDS.index(kind) if kind in KINDS else len(KINDS)
