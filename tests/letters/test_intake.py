"""E-mail intake on realistic e-mails (tests/letters/emails/): facts, what is missing, emotion, asks, draft."""

from __future__ import annotations

import pytest

from app.engine.step import Engine
from app.letters.intake import Intake, IntakeError, intake, read_email
from app.letters.pack import LetterPack
from tests.letters.conftest import EMAILS, TODAY


def read(engine: Engine, pack: LetterPack, name: str) -> Intake:
    return intake(read_email((EMAILS / name).read_bytes()), engine.analyzer, pack.intake, pack.book, pack.facts,
                  today=TODAY)


def test_a_complete_email_gives_every_fact_and_misses_none(engine: Engine, pack: LetterPack) -> None:
    result = read(engine, pack, "complete.txt")
    assert result.intent == "repair" and result.missing == ()
    assert result.facts == {
        "order_id": "202611020077", "product_model": "KFR-35GW", "contact": "13812345678",
        "purchase_date": "2026-11-02", "delivery_date": "2026-11-05", "quantity": "1",
        "address": "北京市海淀区中关村大街27号3单元502",
    }
    assert result.email.subject == "空调不制冷,申请上门维修"
    assert any("上门检测维修" in ask for ask in result.asks)
    assert "补充以下信息" not in result.draft.to_text()  # nothing to ask for


def test_missing_facts_are_listed_and_the_draft_asks_for_exactly_them(engine: Engine, pack: LetterPack) -> None:
    result = read(engine, pack, "missing.txt")
    assert result.intent == "return_refund"
    assert result.missing == ("order_id", "product_model", "delivery_date", "contact")
    asked = dict(result.draft.parts)
    request = next(text for name, text in result.draft.parts if "补充以下信息" in text)
    assert request.endswith("订单号、产品型号、收货日期、联系电话。")
    assert "body" in asked


def test_an_angry_complaint_is_answered_with_the_complaint_letter(engine: Engine, pack: LetterPack) -> None:
    result = read(engine, pack, "angry.eml")
    assert (result.intent, result.emotion, result.kind) == ("complaint", "angry", "complaint")
    assert result.email.sender_name == "陈女士" and result.facts["contact"] == "chen@example.com"
    assert result.facts["order_id"] == "202611200015"
    assert any("赔偿" in ask for ask in result.asks)
    names = [name for name, _ in result.draft.parts]
    assert names.index("apology") < names.index("solution")
    assert dict(result.draft.parts)["salutation"].startswith("尊敬的陈女士")
    assert "2026年11月23日" in dict(result.draft.parts)["opening"]  # the e-mail's own date


def test_traditional_characters_are_understood(engine: Engine, pack: LetterPack) -> None:
    result = read(engine, pack, "traditional.txt")
    assert result.intent == "invoice" and result.email.subject == "發票抬頭開錯了"
    assert result.facts["order_id"] == "202611150033" and result.facts["contact"] == "13912345678"
    assert result.missing == () and result.asks


def test_a_quoted_reply_chain_is_not_read_as_the_customers_words(engine: Engine, pack: LetterPack) -> None:
    email = read_email((EMAILS / "quoted.eml").read_bytes())
    result = read(engine, pack, "quoted.eml")
    assert "请提供您的订单号" in email.body  # the quote is in the message …
    assert all("请提供" not in ask for ask in result.asks)  # … but not among the customer's asks
    assert result.intent == "order_status" and result.facts["order_id"] == "202611180001"


def test_an_html_only_body_is_read_as_text(engine: Engine, pack: LetterPack) -> None:
    email = read_email((EMAILS / "html_only.eml").read_bytes())
    assert "<p>" not in email.body and "color:red" not in email.body and "充不进电" in email.body
    result = read(engine, pack, "html_only.eml")
    assert result.intent == "repair" and result.facts["purchase_date"] == "2026-10-01"
    assert result.missing == ("address",)
    assert all("上一封邮件" not in ask for ask in result.asks)


@pytest.mark.parametrize("data", [b"", b"   \n", "\ud800".encode("utf-8", "surrogatepass")])
def test_an_unreadable_email_is_refused(data: bytes) -> None:
    with pytest.raises(IntakeError):
        read_email(data)
