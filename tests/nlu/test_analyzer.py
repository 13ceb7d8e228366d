"""The analyzer: the public entry point the engine and CLI call."""

from __future__ import annotations

import json
import threading
from datetime import date
from typing import Any

import pytest

import app.nlu
import app.nlu.analyzer as analyzer_module
from app.nlu.analysis import CONFIRMATIONS, EMOTIONS, SLOT_NAMES, Analysis
from app.nlu.analyzer import Analyzer, get_analyzer
from tests.nlu.support import INTENTS, JDDC, TODAY

MESSAGES = [
    "你好", "我的订单123456789012昨天显示已签收，但是我没收到！！", "發票抬頭開錯了", "转人工", "好的",
    "上周三买的iPhone 15 Pro退款199元什么时候到", "asdfgh", "谢谢，没有了，再见", "",
]


@pytest.mark.parametrize("text", MESSAGES)
def test_analyze_is_deterministic(analyzer: Analyzer, text: str) -> None:
    assert analyzer.analyze(text, today=TODAY) == analyzer.analyze(text, today=TODAY)


def test_fresh_analyzers_agree() -> None:
    first, second = Analyzer.load(cache_size=0), Analyzer.load(cache_size=0)
    for text in MESSAGES:
        assert first.analyze(text, today=TODAY) == second.analyze(text, today=TODAY)


def test_cache_does_not_change_results(analyzer: Analyzer) -> None:
    cached = Analyzer.load(cache_size=16)
    for text in MESSAGES * 2:
        assert cached.analyze(text, today=TODAY) == analyzer.analyze(text, today=TODAY)


def test_today_is_part_of_the_answer(analyzer: Analyzer) -> None:
    cached = Analyzer.load(cache_size=16)
    assert cached.analyze("昨天下的单", today=date(2026, 11, 22)).slots["date"] == "2026-11-21"
    assert cached.analyze("昨天下的单", today=date(2026, 1, 1)).slots["date"] == "2025-12-31"


def test_analysis_carries_every_part(analyzer: Analyzer) -> None:
    result = analyzer.analyze("訂單１２３４５６７８９０１２怎么还没到，太慢了！！", today=TODAY)
    assert isinstance(result, Analysis)
    assert result.text == "訂單１２３４５６７８９０１２怎么还没到，太慢了！！"
    assert result.normalized == "订单123456789012怎么还没到,太慢了!!"
    assert result.intent in ("order_status", "complaint")
    assert dict(result.slots) == {"order_id": "123456789012"}
    assert result.emotion == "negative"
    assert result.confirmation == "unclear"
    assert result.handoff is False


def test_slots_are_read_only(analyzer: Analyzer) -> None:
    result = analyzer.analyze("订单123456789012", today=TODAY)
    with pytest.raises(TypeError):
        result.slots["order_id"] = "x"  # type: ignore[index]


def test_handoff_flag_and_intent(analyzer: Analyzer) -> None:
    result = analyzer.analyze("机器人听不懂，叫你们经理来", today=TODAY)
    assert result.handoff is True
    assert result.intent == "handoff"


def test_describe_is_json_serialisable(analyzer: Analyzer) -> None:
    payload = analyzer.describe(MESSAGES[5], today=TODAY)
    assert json.loads(json.dumps(payload, ensure_ascii=False)) == payload
    assert payload["slots"]["date"] == "2026-11-11"


def test_describe_adds_the_words_of_the_normalised_text(analyzer: Analyzer) -> None:
    payload = analyzer.describe("訂單１２３４５６７８９０１２怎么还没到", today=TODAY)
    assert "123456789012" in payload["tokens"]
    assert "".join(payload["tokens"]) == payload["normalized"]
    assert list(payload) == ["text", "normalized", "tokens", "intent", "confidence", "alternatives", "slots",
                             "confirmation", "emotion", "handoff", "question"]


def test_get_analyzer_is_a_thread_safe_singleton_per_pack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analyzer_module, "_shared", {})
    built: list[Analyzer] = []
    original = Analyzer.load

    def counting_load(cls: type[Analyzer], /, *args: Any, **kwargs: Any) -> Analyzer:
        built.append(original(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(Analyzer, "load", classmethod(counting_load))
    seen: list[Analyzer] = []
    threads = [threading.Thread(target=lambda: seen.append(get_analyzer())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 1
    assert all(instance is built[0] for instance in seen)


def test_package_exports_the_public_api() -> None:
    assert app.nlu.Analyzer is Analyzer
    assert app.nlu.get_analyzer is get_analyzer
    exported = set(app.nlu.__all__)
    assert {"Analysis", "Analyzer", "get_analyzer", "CORE_INTENTS", "CONFIRMATIONS", "EMOTIONS"} <= exported


def test_real_jddc_customer_messages_analyse_to_valid_results(analyzer: Analyzer) -> None:
    """Real, messy chat text (placeholders, emoji, run-on messages) never breaks the contract."""
    if not JDDC.exists():
        pytest.skip(f"JDDC sample not found at {JDDC}")
    texts = []
    with JDDC.open(encoding="utf-8") as rows:
        for row in rows:
            columns = row.rstrip("\n").split("\t")
            if len(columns) >= 7 and columns[2] == "0":
                texts.append(columns[6])
    assert texts
    for text in texts:
        result = analyzer.analyze(text, today=TODAY)
        assert result.intent in INTENTS and 0.0 <= result.confidence <= 1.0
        assert result.confirmation in CONFIRMATIONS and result.emotion in EMOTIONS
        assert 0.0 <= result.emotion_score <= 1.0
        assert set(result.slots) <= set(SLOT_NAMES)
        if "date" in result.slots:
            date.fromisoformat(result.slots["date"])
