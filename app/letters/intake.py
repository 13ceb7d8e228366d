"""E-mail intake (seed 002): read a customer e-mail (plain text or .eml, HTML-only bodies and quoted
reply chains included), find what it asks and the identifying facts a customer should give, list the
missing ones, and draft the reply letter that asks for exactly those.

Pure apart from parsing bytes: the caller supplies the analyzer, the rules (scripts_zh/letters/intake.yaml),
the letter book and the facts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr, parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Final

from app.content.errors import ContentDefect, SchemaError
from app.letters.composer import Letter, compose
from app.letters.templates import LetterBook, read_yaml
from app.nlu.analyzer import Analyzer

INTAKE_FILE: Final = "intake.yaml"
_HEADER: Final = re.compile(r"^(?:subject|from|to|date|content-type|mime-version|received|message-id|return-path)\s*:",
                            re.IGNORECASE)
_SUBJECT_LINE: Final = re.compile(r"^\s*(?:subject|主题|主題|标题|標題|主旨)\s*[::]\s*(.+)$", re.IGNORECASE)
_CLAUSE_END: Final = re.compile(r"[,。;!?\n,;!?]")
_SENTENCE_END: Final = re.compile(r"(?<=[。!?!?\n])")
_BLOCK_TAGS: Final = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "blockquote"})


@dataclass(frozen=True, slots=True)
class Email:
    subject: str
    body: str
    sender_name: str | None = None
    sender_address: str | None = None
    sent: datetime | None = None


@dataclass(frozen=True, slots=True)
class IntakeRules:
    facts: dict[str, str]  # fact name → how to ask for it
    required: dict[str, tuple[str, ...]]  # intent (or "default") → facts it needs
    date_cues: dict[str, tuple[str, ...]]
    address_labels: tuple[str, ...]
    quantity_units: tuple[str, ...]
    quantity_labels: tuple[str, ...]
    ask_cues: tuple[str, ...]
    quote_markers: tuple[str, ...]
    quote_line_endings: tuple[str, ...]
    kinds: dict[str, str]
    solution: dict[str, str]
    list_separator: str


@dataclass(frozen=True, slots=True)
class Intake:
    email: Email
    intent: str
    confidence: float
    emotion: str
    facts: dict[str, str]
    missing: tuple[str, ...]
    asks: tuple[str, ...]
    kind: str
    draft: Letter
    draft_slots: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.email.subject, "sender": self.email.sender_address, "intent": self.intent,
            "confidence": round(self.confidence, 3), "emotion": self.emotion, "facts": self.facts,
            "missing": list(self.missing), "asks": list(self.asks), "kind": self.kind,
            "draft": self.draft.to_text(), "letter": self.draft.to_dict(),
        }


class IntakeError(ValueError):
    """The e-mail cannot be read (no body, undecodable bytes)."""


# ---------------------------------------------------------------- rules


def load_intake_rules(scripts_dir: Path) -> tuple[IntakeRules | None, list[ContentDefect]]:
    path = scripts_dir / "letters" / INTAKE_FILE
    defects: list[ContentDefect] = []
    if not path.is_file():
        return None, [SchemaError("the e-mail intake rules are missing", file=str(path), hint="add scripts_zh/letters/intake.yaml")]
    raw = read_yaml(path, defects)
    if raw is None:
        return None, defects
    try:
        rules = _rules(raw)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return None, [SchemaError(f"intake rules: {exc}", file=str(path), hint="see docs/letters.md for the format")]
    unknown = sorted({f for names in rules.required.values() for f in names} - set(rules.facts))
    if unknown:
        defects.append(SchemaError(f"`required` names undeclared facts {unknown}", file=str(path)))
    return (None if defects else rules), defects


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"`{what}` must be a list of texts")
    return tuple(value)


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"`{what}` must be a mapping")
    return dict(value)


def _rules(raw: Any) -> IntakeRules:
    raw = _mapping(raw, "the file")
    return IntakeRules(
        facts={str(k): str(v) for k, v in _mapping(raw["facts"], "facts").items()},
        required={str(k): _strings(v, f"required.{k}") for k, v in _mapping(raw["required"], "required").items()},
        date_cues={str(k): _strings(v, f"date_cues.{k}") for k, v in _mapping(raw["date_cues"], "date_cues").items()},
        address_labels=_strings(raw["address_labels"], "address_labels"),
        quantity_units=_strings(raw["quantity_units"], "quantity_units"),
        quantity_labels=_strings(raw["quantity_labels"], "quantity_labels"),
        ask_cues=_strings(raw["ask_cues"], "ask_cues"),
        quote_markers=tuple(m.lower() for m in _strings(raw["quote_markers"], "quote_markers")),
        quote_line_endings=tuple(m.lower() for m in _strings(raw["quote_line_endings"], "quote_line_endings")),
        kinds={str(k): str(v) for k, v in _mapping(raw["kinds"], "kinds").items()},
        solution={str(k): str(v) for k, v in _mapping(raw["solution"], "solution").items()},
        list_separator=str(raw.get("list_separator", ", ")),
    )


# ---------------------------------------------------------------- reading the e-mail


def read_email(data: bytes) -> Email:
    """An e-mail from the bytes of a .eml file or of plain text (an optional "主题:"/"Subject:" first line)."""
    try:
        head = data[:2048].decode("utf-8", errors="replace")
    except UnicodeDecodeError:  # pragma: no cover - errors="replace" never raises
        head = ""
    first = head.lstrip().splitlines()[0] if head.strip() else ""
    if _HEADER.match(first):
        message = BytesParser(policy=policy.default).parsebytes(data)
        assert isinstance(message, EmailMessage)
        return _from_message(message)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise IntakeError("the e-mail is neither a .eml message nor UTF-8 text") from None
    lines = text.strip().splitlines()
    subject = ""
    if lines and (match := _SUBJECT_LINE.match(lines[0])):
        subject, lines = match.group(1).strip(), lines[1:]
    body = "\n".join(lines).strip()
    if not body and not subject:
        raise IntakeError("the e-mail is empty")
    return Email(subject, body)


def _from_message(message: EmailMessage) -> Email:
    subject = str(message.get("subject", "") or "").strip()
    name, address = parseaddr(str(message.get("from", "") or ""))
    sent = None
    if message.get("date"):
        try:
            sent = parsedate_to_datetime(str(message["date"]))
        except (TypeError, ValueError):
            sent = None
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        raise IntakeError("the message has no text or HTML body")
    content = part.get_content()
    body = _html_to_text(content) if part.get_content_subtype() == "html" else str(content)
    if not body.strip() and not subject:
        raise IntakeError("the e-mail is empty")
    return Email(subject, body.strip(), name or None, address or None, sent)


class _TextOfHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.chunks.append("\n")
        if tag == "blockquote":
            self.chunks.append("\n> ")  # a quoted earlier message: cut like "> " lines

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.chunks.append(data)


def _html_to_text(markup: str) -> str:
    parser = _TextOfHtml()
    parser.feed(markup)
    parser.close()
    lines = (line.strip() for line in "".join(parser.chunks).splitlines())
    return "\n".join(line for line in lines if line)


def without_quotes(body: str, rules: IntakeRules) -> str:
    """The customer's new text: quoted lines ("> …") and everything from a quoted earlier message on are cut."""
    kept: list[str] = []
    for line in body.splitlines():
        stripped = line.strip()
        lowered = stripped.lower()
        if any(lowered.startswith(marker) for marker in rules.quote_markers) or \
                any(lowered.endswith(ending) for ending in rules.quote_line_endings):
            break
        if stripped.startswith(">"):
            continue
        kept.append(line)
    return "\n".join(kept).strip()


# ---------------------------------------------------------------- understanding it


def intake(email: Email, analyzer: Analyzer, rules: IntakeRules, book: LetterBook, facts: Mapping[str, str], *,
           today: date) -> Intake:
    """Read the e-mail and draft the reply (raises `MissingFacts` only if the pack's templates need more)."""
    body = without_quotes(email.body, rules)
    text = "\n".join(part for part in (email.subject, body) if part)
    if not text.strip():
        raise IntakeError("the e-mail has no text of its own (only quoted messages)")
    analysis = analyzer.analyze(text, today=today)
    lines = [analyzer.normalizer(line) for line in text.splitlines()]
    found = _facts(lines, analysis.slots, analyzer, rules, email, today)
    required = rules.required.get(analysis.intent, rules.required.get("default", ()))
    missing = tuple(name for name in required if name not in found)
    kind = rules.kinds.get(analysis.intent, rules.kinds.get("default", "consult"))
    slots = _draft_slots(email, found, missing, rules, facts, today)
    letter = compose(book, kind, slots, facts, today=today)
    return Intake(email, analysis.intent, analysis.confidence, analysis.emotion, found, missing,
                  _asks(body, rules, analyzer), kind, letter, slots)


def _facts(lines: Sequence[str], slots: Mapping[str, str], analyzer: Analyzer, rules: IntakeRules, email: Email,
           today: date) -> dict[str, str]:
    """The identifying facts, looked for clause by clause in the normalised lines (a value never runs
    across a line break)."""
    found: dict[str, str] = {}
    for name in ("order_id", "product_model"):
        if slots.get(name):
            found[name] = slots[name]
    contact = slots.get("phone") or slots.get("email") or email.sender_address
    if contact:
        found["contact"] = contact
    clauses = (c.strip() for line in lines for c in _CLAUSE_END.split(line))
    for clause in filter(None, clauses):
        for fact, cues in rules.date_cues.items():
            if fact not in found and any(cue in clause for cue in cues):
                when = analyzer.slots.extract(clause, today).get("date")
                if when:
                    found[fact] = when
        if "address" not in found:
            address = _labelled(clause, rules.address_labels)
            if address:
                found["address"] = address
        if "quantity" not in found:
            quantity = _quantity(clause, rules)
            if quantity:
                found["quantity"] = quantity
    return found


def _labelled(clause: str, labels: Sequence[str]) -> str | None:
    """The value after a label ("收货地址:北京市…")."""
    for label in labels:
        match = re.search(re.escape(label) + r"\s*(?:是|为|[::])\s*(\S.{3,})", clause)
        if match:
            return match.group(1).strip()
    return None


def _quantity(clause: str, rules: IntakeRules) -> str | None:
    units = "|".join(map(re.escape, rules.quantity_units))
    labels = "|".join(map(re.escape, rules.quantity_labels))
    match = re.search(rf"(?:{labels})\s*[::]?\s*(\d+)\s*(?:{units})", clause) or \
        re.search(rf"(?:{labels})\s*[::]\s*(\d+)", clause)
    return match.group(1) if match else None


def _asks(body: str, rules: IntakeRules, analyzer: Analyzer) -> tuple[str, ...]:
    """The customer's sentences that ask for something, as written (cues match the normalised sentence,
    so traditional characters count)."""
    sentences = (s.strip() for s in _SENTENCE_END.split(body))
    return tuple(s for s in sentences if s and any(cue in analyzer.normalizer(s) for cue in rules.ask_cues))


def _draft_slots(email: Email, found: Mapping[str, str], missing: Sequence[str], rules: IntakeRules,
                 facts: Mapping[str, str], today: date) -> dict[str, str]:
    slots = {name: found[name] for name in ("order_id", "product_model") if name in found}
    if email.sender_name:
        slots["customer_name"] = email.sender_name
    slots["enquiry_date"] = (email.sent.date() if email.sent else today).isoformat()
    solution = rules.solution["incomplete" if missing else "complete"]
    slots["solution"] = solution.format_map(_Facts(facts))
    if missing:
        slots["missing_facts"] = rules.list_separator.join(rules.facts[name] for name in missing)
    return slots


class _Facts(dict[str, str]):
    """`str.format_map` over the facts; an unknown name stays as written so a check can find it."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
