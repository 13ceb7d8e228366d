"""The QA rules, by stable id. Their settings and cue words live in `scripts_zh/qa_rules.yaml`.

| id | module |
|---|---|
| greeting.missing, greeting.no_identity | opening |
| confirm.missing, apology.missing, wait.no_apology, answer.no_eta | handling |
| close.no_more_help, close.no_farewell | closing |
| forbidden.phrase, pii.exposed | wording |
| commitment.overdue | aftercare |
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Final

from app.qa.rulebook import RULEBOOK_FILE, Param, RuleBook, load_rulebook, parse_rulebook
from app.qa.rules import aftercare, closing, handling, opening, wording
from app.qa.rules.base import Hit, Rule

RULES: Final[Mapping[str, Rule]] = MappingProxyType(
    {rule.id: rule for module in (opening, handling, wording, closing, aftercare) for rule in module.RULES}
)
SPECS: Final[Mapping[str, Mapping[str, Param]]] = MappingProxyType({rule.id: rule.params for rule in RULES.values()})


def rules_file(scripts_dir: Path) -> Path:
    """Where a content folder keeps its rules: `<scripts>/qa_rules.yaml`."""
    return scripts_dir / RULEBOOK_FILE


def load_rules(path: Path) -> RuleBook:
    """Load and validate a rules file against the rules above (raises `ContentErrors`)."""
    return load_rulebook(path, SPECS)


def parse_rules(text: str, file: str = "<rules>") -> RuleBook:
    return parse_rulebook(text, file, SPECS)


__all__ = ["RULES", "SPECS", "Hit", "Rule", "load_rules", "parse_rules", "rules_file"]
