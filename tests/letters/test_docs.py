"""docs/letters.md shows one letter of each kind exactly as the code writes it."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from app.config import PROJECT_ROOT
from app.letters.composer import compose
from app.letters.pack import LetterPack
from app.letters.templates import KINDS
from tests.letters.conftest import SLOTS

DOC = (PROJECT_ROOT / "docs" / "letters.md").read_text(encoding="utf-8")
DOC_DAY = date(2026, 11, 26)


def test_the_doc_states_the_slots_its_examples_use() -> None:
    block = re.search(r"```json\n(\{.*?\})\n```", DOC[DOC.index("## One letter of each kind"):], re.DOTALL)
    assert block is not None and json.loads(block.group(1)) == SLOTS


@pytest.mark.parametrize("kind", KINDS)
def test_the_docs_example_is_what_the_code_writes(pack: LetterPack, kind: str) -> None:
    shown = re.search(rf"<!-- letter: {kind} -->\n```text\n(.*?)```", DOC, re.DOTALL)
    assert shown is not None, f"docs/letters.md has no {kind} example"
    assert shown.group(1) == compose(pack.book, kind, SLOTS, pack.facts, today=DOC_DAY).to_text()
