"""Letter templates: loading and checking `scripts_zh/letters/*.yaml` (docs/letters.md).

A template is a kind (`consult`, `complaint`, `thanks`, `notice`), a subject and an ordered list of
parts. A part's `text` is one text or a list of alternatives, best first: composing takes the first
alternative whose placeholders all have values, so a letter words itself with what it knows and never
shows a placeholder. A part whose every alternative lacks a value is either left out (`optional: true`)
or makes the letter impossible, and its missing slots are reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from app.content.errors import ContentDefect, ContentErrors, SchemaError, UnknownPlaceholder
from app.content.model import Template
from app.content.yamlio import read_yaml_file

KINDS: Final = ("consult", "complaint", "thanks", "notice")
# The seed's letter structure (000 二(一)) with the complaint letter's body in the seed's order
# (000 二(三): apology, 表明重视, 调查与说明, 解决方案, 承诺改进). Parts appear in this order.
PART_ORDER: Final = (
    "salutation", "opening", "apology", "attention", "investigation", "body", "solution", "improvement",
    "closing", "valediction", "signature",
)
FRAME: Final = ("salutation", "opening", "closing", "valediction", "signature")  # every letter has them
REQUIRED_PARTS: Final = {
    "consult": (*FRAME, "body"),
    "complaint": (*FRAME, "apology", "attention", "investigation", "solution", "improvement"),
    "thanks": (*FRAME, "body"),
    "notice": (*FRAME, "body"),
}
SLOTS_FILE: Final = "slots.yaml"
NOT_TEMPLATES: Final = frozenset({SLOTS_FILE, "intake.yaml"})


@dataclass(frozen=True, slots=True)
class Part:
    name: str
    alternatives: tuple[Template, ...]
    optional: bool = False


@dataclass(frozen=True, slots=True)
class LetterTemplate:
    kind: str
    name: str  # the seed's name for the kind, e.g. 咨询回复函
    subject: tuple[Template, ...]
    parts: tuple[Part, ...]
    file: str

    @property
    def placeholders(self) -> frozenset[str]:
        names = {name for template in self.subject for name in template.placeholders}
        names |= {name for part in self.parts for template in part.alternatives for name in template.placeholders}
        return frozenset(names)


@dataclass(frozen=True, slots=True)
class LetterSettings:
    """How dates and the subject line are written (scripts_zh/letters/slots.yaml)."""

    date_format: str = "{year}-{month:02d}-{day:02d}"
    subject_label: str = "Subject"


@dataclass(frozen=True, slots=True)
class LetterBook:
    """A pack's letter templates by kind and the letter slots they may use."""

    templates: dict[str, LetterTemplate]
    slots: dict[str, str]  # slot name → what it holds
    settings: LetterSettings = LetterSettings()


def load_letters(scripts_dir: Path, facts: dict[str, str]) -> tuple[LetterBook, list[ContentDefect]]:
    """Everything in `scripts_dir/letters` that parses, and every defect (placeholders are checked
    against the declared letter slots and the pack's facts)."""
    folder = scripts_dir / "letters"
    defects: list[ContentDefect] = []
    if not folder.is_dir():
        return LetterBook({}, {}), [SchemaError("the letters folder is missing", file=str(folder),
                                                hint="add scripts_zh/letters/ (docs/letters.md)")]
    slots, settings = _read_slots(folder / SLOTS_FILE, defects)
    templates: dict[str, LetterTemplate] = {}
    for path in sorted(folder.glob("*.yaml")):
        if path.name in NOT_TEMPLATES:
            continue
        template = _read_template(path, defects)
        if template is None:
            continue
        if template.kind in templates:
            defects.append(SchemaError(f"letter kind {template.kind!r} is defined twice", file=str(path),
                                       hint=f"also in {templates[template.kind].file}"))
            continue
        templates[template.kind] = template
        for name in sorted(template.placeholders - set(slots) - set(facts)):
            defects.append(UnknownPlaceholder(
                f"letter {template.kind!r} uses {{{name}}}, which is neither a letter slot nor a fact",
                file=str(path), hint="declare it in scripts_zh/letters/slots.yaml or add it to facts.yaml"))
    for kind in KINDS:
        if kind not in templates:
            defects.append(SchemaError(f"no template for the letter kind {kind!r}", file=str(folder),
                                       hint=f"add scripts_zh/letters/{kind}.yaml"))
    return LetterBook(templates, slots, settings), defects


def read_yaml(path: Path, defects: list[ContentDefect]) -> Any:
    try:
        return read_yaml_file(path)
    except ContentErrors as exc:
        defects.extend(exc.defects)
    return None


def _read_slots(path: Path, defects: list[ContentDefect]) -> tuple[dict[str, str], LetterSettings]:
    raw = read_yaml(path, defects) if path.is_file() else None
    if raw is None:
        if not path.is_file():
            defects.append(SchemaError("letter slots file is missing", file=str(path)))
        return {}, LetterSettings()
    slots = raw.get("slots") if isinstance(raw, dict) else None
    if not isinstance(slots, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in slots.items()):
        defects.append(SchemaError("`slots` must map each slot name to its description", file=str(path)))
        return {}, LetterSettings()
    settings = LetterSettings()
    date_format, label = raw.get("date_format", settings.date_format), raw.get("subject_label", settings.subject_label)
    try:
        date_format.format(year=2026, month=1, day=2)
    except (AttributeError, KeyError, IndexError, ValueError):
        defects.append(SchemaError("`date_format` may use only {year}, {month} and {day}", file=str(path)))
        date_format = settings.date_format
    if not isinstance(label, str) or not label.strip():
        defects.append(SchemaError("`subject_label` must be a text", file=str(path)))
        label = settings.subject_label
    return dict(slots), LetterSettings(date_format, label)


def _texts(raw: Any) -> tuple[Template, ...] | None:
    items = raw if isinstance(raw, list) else [raw]
    if not items or not all(isinstance(item, str) and item.strip() for item in items):
        return None
    return tuple(Template.parse(item) for item in items)


def _read_template(path: Path, defects: list[ContentDefect]) -> LetterTemplate | None:
    raw = read_yaml(path, defects)
    if raw is None:
        return None
    file = str(path)
    if not isinstance(raw, dict):
        defects.append(SchemaError("a letter template is a mapping with kind, name, subject and parts", file=file))
        return None
    unknown = sorted(set(raw) - {"kind", "name", "source", "subject", "parts"})
    kind, name, subject = raw.get("kind"), raw.get("name"), _texts(raw.get("subject"))
    problems = [f"unknown key(s) {unknown}"] if unknown else []
    if kind not in KINDS:
        problems.append(f"`kind` must be one of {', '.join(KINDS)}, got {kind!r}")
    if not isinstance(name, str) or not name.strip():
        problems.append("`name` (the seed's name of the letter) is required")
    if subject is None:
        problems.append("`subject` must be a text or a list of texts")
    parts = _read_parts(raw.get("parts"), problems)
    if problems:
        for problem in problems:
            defects.append(SchemaError(problem, file=file, line=getattr(raw, "line", None)))
        return None
    assert isinstance(kind, str) and isinstance(name, str) and subject is not None
    order_problems = _check_order(kind, parts)
    for problem in order_problems:
        defects.append(SchemaError(problem, file=file, hint="see the part order in docs/letters.md (seed 000)"))
    return None if order_problems else LetterTemplate(kind, name, subject, tuple(parts), file)


def _read_parts(raw: Any, problems: list[str]) -> list[Part]:
    if not isinstance(raw, list) or not raw:
        problems.append("`parts` must be a non-empty list")
        return []
    parts: list[Part] = []
    for index, item in enumerate(raw, start=1):
        if not isinstance(item, dict) or item.get("part") not in PART_ORDER:
            problems.append(f"part {index}: `part` must be one of {', '.join(PART_ORDER)}")
            continue
        texts = _texts(item.get("text"))
        if texts is None:
            problems.append(f"part {index} ({item['part']}): `text` must be a text or a list of texts")
            continue
        optional = item.get("optional", False)
        if not isinstance(optional, bool):
            problems.append(f"part {index} ({item['part']}): `optional` must be true or false")
            continue
        parts.append(Part(item["part"], texts, optional))
    return parts


def _check_order(kind: str, parts: list[Part]) -> list[str]:
    problems = []
    ranks = [PART_ORDER.index(part.name) for part in parts]
    for before, after, part in zip(ranks, ranks[1:], parts[1:], strict=False):
        if after < before:
            problems.append(f"part {part.name!r} comes after {PART_ORDER[before]!r}; the order is {', '.join(PART_ORDER)}")
    present = {part.name for part in parts if not part.optional}
    missing = [name for name in REQUIRED_PARTS[kind] if name not in present]
    if missing:
        problems.append(f"a {kind} letter needs the part(s) {', '.join(missing)}")
    return problems
