"""A pack's letters: the templates and the e-mail intake rules, loaded together (for the CLI, the API
and `huashu check`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.content.errors import ContentDefect, ContentErrors
from app.letters.intake import IntakeRules, load_intake_rules
from app.letters.templates import LetterBook, load_letters


@dataclass(frozen=True, slots=True)
class LetterPack:
    book: LetterBook
    intake: IntakeRules
    facts: dict[str, str]


def letter_defects(scripts_dir: Path, facts: dict[str, str]) -> list[ContentDefect]:
    """Every defect of the pack's letter templates and intake rules. A pack without `letters/` has none:
    it writes no letters (`huashu letter` says so), which is not a defect of its chat flows."""
    if not (scripts_dir / "letters").is_dir():
        return []
    _, defects = load_letters(scripts_dir, facts)
    _, intake_defects = load_intake_rules(scripts_dir)
    return defects + intake_defects


def load_letter_pack(scripts_dir: Path, facts: dict[str, str]) -> LetterPack:
    """The pack's letters; raises `ContentErrors` listing every defect."""
    book, defects = load_letters(scripts_dir, facts)
    rules, intake_defects = load_intake_rules(scripts_dir)
    if defects or intake_defects or rules is None:
        raise ContentErrors(defects + intake_defects)
    return LetterPack(book, rules, facts)
