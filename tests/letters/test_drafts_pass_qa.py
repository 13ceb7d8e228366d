"""Drafted letters replayed by QA like any transcript: an e-mail and its reply, in the `email` channel."""

from __future__ import annotations

import pytest

from app.config import Settings
from app.engine.step import Engine
from app.letters.composer import compose
from app.letters.intake import intake, read_email
from app.letters.pack import LetterPack
from app.letters.templates import KINDS
from app.qa.assessor import Assessor
from app.qa.rules import load_rules, rules_file
from app.transcripts import Transcript, Turn
from tests.letters.conftest import EMAILS, SLOTS, TODAY

CUSTOMER_EMAIL = {
    "consult": "您好,我想咨询一下洗衣机XQG100的保修期是多久?",
    "complaint": "你们的送货师傅把我家地板刮坏了,太过分了,必须给个说法!",
    "thanks": "上次的问题已经解决了,非常感谢你们的耐心帮助。",
    "notice": "请问春节期间还能正常配送吗?",
}


@pytest.fixture(scope="module")
def assessor(engine: Engine) -> Assessor:
    return Assessor(engine, load_rules(rules_file(Settings().scripts_dir)))


def replay(assessor: Assessor, customer: str, reply: str) -> list[str]:
    transcript = Transcript(id="mail", channel="email", flow="email", agent="小李",
                            turns=(Turn("customer", customer), Turn("agent", reply)))
    assessment = assessor.assess(transcript)
    assert assessment.error is None
    return [finding.rule for finding in assessment.findings]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_of_letter_passes_the_qa_rules(assessor: Assessor, pack: LetterPack, kind: str) -> None:
    letter = compose(pack.book, kind, SLOTS, pack.facts, today=TODAY)
    assert replay(assessor, CUSTOMER_EMAIL[kind], letter.to_text()) == []


@pytest.mark.parametrize("name", sorted(p.name for p in EMAILS.iterdir()))
def test_intake_drafts_pass_the_qa_rules(assessor: Assessor, engine: Engine, pack: LetterPack, name: str) -> None:
    email = read_email((EMAILS / name).read_bytes())
    result = intake(email, engine.analyzer, pack.intake, pack.book, pack.facts, today=TODAY)
    assert replay(assessor, email.body, result.draft.to_text()) == []


def test_a_curt_reply_to_the_same_complaint_is_found_wanting(assessor: Assessor) -> None:
    # The control: QA does look at e-mail replies, so the clean results above mean something.
    assert replay(assessor, CUSTOMER_EMAIL["complaint"], "收到。") != []
