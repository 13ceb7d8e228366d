"""Ranking standard phrasings: scenario, keywords, the customer's own data, missing slots, determinism."""

from __future__ import annotations

from app.engine.events import CustomerSaid
from app.engine.step import Engine
from app.engine.suggest import Suggestion


def test_scenario_phrasings_outrank_generic_ones(engine: Engine) -> None:
    ranked = engine.suggester.rank("confirm", channel="online", topic="return_refund", slots={"order_id": "1", "issue": "x"})
    assert "return_refund" in engine.content.phrases[ranked[0].phrase_id].scenarios


def test_keywords_in_the_customers_words_pick_the_answer(engine: Engine) -> None:
    ranked = engine.suggester.rank("answer", channel="online", topic="invoice", slots={}, words="我要开增值税专用发票")
    assert ranked[0].phrase_id == "answer.invoice.special"
    assert "keywords" in ranked[0].reason


def test_missing_slots_are_reported_and_ranked_down(engine: Engine) -> None:
    ranked = engine.suggester.rank("answer", channel="online", topic="order_status", slots={}, words="快递到哪了", limit=0)
    lookup = next(s for s in ranked if s.phrase_id == "answer.order_status.lookup")
    assert "order_id" in lookup.missing_slots and "{order_id}" in lookup.text
    assert ranked.index(lookup) > 0 or all(s.missing_slots for s in ranked)


def test_filled_slots_are_rendered(engine: Engine) -> None:
    slots = {"order_id": "202611180001", "shipping_status": "运输中", "carrier": "顺丰速运", "tracking_no": "SF1", "eta": "2026-11-24"}
    best = engine.suggester.best("answer", channel="online", topic="order_status", slots=slots, words="到哪了", require_match=True)
    assert best is not None and best.missing_slots == () and "顺丰速运" in best.text and "{" not in best.text


def test_bot_never_says_an_answer_that_does_not_fit(engine: Engine) -> None:
    assert engine.suggester.best("answer", channel="online", topic="product_info", slots={}, words="支持无线充电吗", require_match=True) is None


def test_channel_filters_phrasings(engine: Engine) -> None:
    for suggestion in engine.suggester.rank("greeting", channel="email", topic=None, slots={}, limit=0):
        assert "email" in engine.content.phrases[suggestion.phrase_id].channels


def test_scores_are_between_zero_and_one_and_sorted(engine: Engine) -> None:
    ranked = engine.suggester.rank("apology", channel="phone", topic="complaint", slots={}, limit=0)
    scores = [s.score for s in ranked]
    assert scores == sorted(scores, reverse=True) and all(0 < s < 1 for s in scores)


def test_the_bots_line_is_the_first_ranked_phrasing_it_may_say(engine: Engine) -> None:
    """`best` (one pass) agrees with `rank` (sorted): the first phrasing with no missing slot that fits."""
    stages = sorted({phrase.stage for phrase in engine.content.phrases.values()})
    topics = [None, *sorted({t for phrase in engine.content.phrases.values() for t in phrase.scenarios})]
    slot_sets = [{}, {"order_id": "202611180001", "shipping_status": "运输中", "carrier": "顺丰速运", "eta": "2026-11-24"}]
    compared = 0
    for stage in stages:
        for topic in topics:
            for slots in slot_sets:
                for words in ("", "快递到哪了,发票怎么开,退货运费谁出"):
                    for require_match in (False, True):
                        ranked = engine.suggester.rank(stage, channel="online", topic=topic, slots=slots, words=words, limit=0)
                        eligible = [s for s in ranked if not s.missing_slots and (s.matched or not require_match)]
                        best = engine.suggester.best(
                            stage, channel="online", topic=topic, slots=slots, words=words, require_match=require_match
                        )
                        assert best == (eligible[0] if eligible else None), (stage, topic, words, require_match)
                        compared += best is not None
    assert compared > 50  # the comparison covered real choices, not only "nothing fits"


def _sidebar_after(engine: Engine, text: str, limit: int = 5) -> list[Suggestion]:
    conversation = engine.start("sidebar", mode="assist").conversation
    conversation = engine.step(conversation, CustomerSaid(text), with_suggestions=False).conversation
    return engine.suggest(conversation, text, limit=limit)


def test_the_sidebar_also_offers_an_answer_and_a_close_check_after_the_states_own(engine: Engine) -> None:
    assert engine.content.flows["default"].assist_also == ("answer", "close-check")
    shown = _sidebar_after(engine, "我的快递到哪了")  # the script asks for the order number next

    assert shown[0].stage == "clarify" and len(shown) <= 5
    assert [s.stage for s in shown[-2:]] == ["answer", "close-check"]
    assert all(s.stage == "clarify" for s in shown[:-2])


def test_the_states_own_phrasing_keeps_the_only_place(engine: Engine) -> None:
    assert [s.stage for s in _sidebar_after(engine, "我的快递到哪了", limit=1)] == ["clarify"]
    two = _sidebar_after(engine, "我的快递到哪了", limit=2)
    assert [s.stage for s in two] == ["clarify", "answer"]

