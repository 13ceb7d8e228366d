"""Composing letters: the seed's structure in order, no placeholder left, a clear refusal when facts lack."""

from __future__ import annotations

import re

import pytest

from app.letters.composer import MissingFacts, UnknownKind, compose
from app.letters.pack import LetterPack
from app.letters.templates import KINDS
from tests.letters.conftest import SLOTS, TODAY

# Seed 000 二(一) for every letter; 二(三) for the complaint letter's body.
STRUCTURE = {
    "consult": ["salutation", "opening", "body", "closing", "valediction", "signature"],
    "complaint": ["salutation", "opening", "apology", "attention", "investigation", "solution", "improvement",
                  "closing", "valediction", "signature"],
    "thanks": ["salutation", "opening", "body", "closing", "valediction", "signature"],
    "notice": ["salutation", "opening", "body", "closing", "valediction", "signature"],
}


def _collapsed(parts: list[str]) -> list[str]:
    return [name for i, name in enumerate(parts) if i == 0 or parts[i - 1] != name]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_the_seed_structure_in_order(pack: LetterPack, kind: str) -> None:
    letter = compose(pack.book, kind, SLOTS, pack.facts, today=TODAY)
    assert _collapsed([name for name, _ in letter.parts]) == STRUCTURE[kind]
    text = letter.to_text()
    assert not re.search(r"\{[a-z_]+\}", text)  # no unfilled placeholder
    assert letter.subject and text.startswith(f"{letter.subject_label}:{letter.subject}")


@pytest.mark.parametrize("kind", KINDS)
def test_the_signature_names_department_contact_and_date(pack: LetterPack, kind: str) -> None:
    letter = compose(pack.book, kind, SLOTS, pack.facts, today=TODAY)
    signature = dict(letter.parts)["signature"]
    assert pack.facts["service_name"] in signature and pack.facts["hotline"] in signature
    assert "2026年11月26日" in signature


def test_the_opening_refers_to_the_enquiry_and_its_date(pack: LetterPack) -> None:
    letter = compose(pack.book, "consult", SLOTS, pack.facts, today=TODAY)
    opening = dict(letter.parts)["opening"]
    assert "2026年11月18日" in opening and "XQG100" in opening and "保修期政策" in opening


def test_the_complaint_letter_apologises_before_it_explains(pack: LetterPack) -> None:
    letter = compose(pack.book, "complaint", {**SLOTS, "investigation": "配送员在搬运时操作不当"}, pack.facts, today=TODAY)
    names = [name for name, _ in letter.parts]
    assert names.index("apology") < names.index("attention") < names.index("investigation") < names.index("solution")
    assert "配送员在搬运时操作不当。" in dict(letter.parts)["investigation"]  # a slot value ends as a sentence


def test_a_letter_words_itself_with_what_it_knows(pack: LetterPack) -> None:
    without_topic = {k: v for k, v in SLOTS.items() if k not in ("topic", "product_model")}
    letter = compose(pack.book, "consult", without_topic, pack.facts, today=TODAY)
    assert "咨询" in letter.subject and "{" not in letter.to_text()


@pytest.mark.parametrize(("kind", "missing"), [
    ("consult", {"enquiry_date", "solution"}),
    ("complaint", {"enquiry_date", "solution"}),
    ("notice", {"notice_subject", "notice_content", "effective_date"}),
])
def test_missing_required_facts_are_listed_not_left_as_placeholders(pack: LetterPack, kind: str, missing: set[str]) -> None:
    with pytest.raises(MissingFacts) as refused:
        compose(pack.book, kind, {"customer_name": "张先生"}, pack.facts, today=TODAY)
    assert set(refused.value.missing) == missing
    assert refused.value.to_dict()["error"] == "missing_facts"
    assert all(refused.value.to_dict()["described"][name] for name in missing)  # said in words too


def test_an_unknown_kind_is_refused_naming_the_kinds(pack: LetterPack) -> None:
    with pytest.raises(UnknownKind, match="consult, complaint, thanks, notice"):
        compose(pack.book, "apology", SLOTS, pack.facts, today=TODAY)


@pytest.mark.parametrize("fmt", ["text", "markdown", "html", "json"])
def test_every_format_holds_every_part(pack: LetterPack, fmt: str) -> None:
    letter = compose(pack.book, "thanks", SLOTS, pack.facts, today=TODAY)
    rendered = letter.render(fmt)
    for _, text in letter.parts:
        assert text.splitlines()[0].replace('"', '\\"') in rendered or text.splitlines()[0] in rendered


def test_html_escapes_what_the_slots_bring(pack: LetterPack) -> None:
    letter = compose(pack.book, "consult", {**SLOTS, "solution": "<script>alert(1)</script>"}, pack.facts, today=TODAY)
    assert "<script>" not in letter.to_html() and "&lt;script&gt;" in letter.to_html()
