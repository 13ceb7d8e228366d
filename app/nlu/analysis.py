"""The result of understanding one customer message: the contract between NLU and engine."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

# Public interface: the intents every pack declares, because the engine and flows rely on them
# (docs/packs.md). A pack's other intents are data: scripts_zh/nlu/intents/*.yaml.
CORE_INTENTS: Final = ("greeting", "complaint", "handoff", "thanks_bye", "other")
CONFIRMATIONS: Final = ("yes", "no", "unclear")
EMOTIONS: Final = ("neutral", "negative", "angry", "positive")
SLOT_NAMES: Final = ("order_id", "phone", "email", "date", "product_model", "amount")


@dataclass(frozen=True, slots=True)
class Analysis:
    """What the NLU understood of one message.

    `alternatives` ranks the other intents, best first, as (intent, score) pairs.
    `slots` holds only what the text contains (dates already resolved to ISO `YYYY-MM-DD`).
    The message's words are not here: nothing the engine decides reads them, so they are segmented
    only for the JSON output (`Analyzer.describe`).
    """

    text: str
    normalized: str
    intent: str
    confidence: float
    alternatives: tuple[tuple[str, float], ...] = ()
    slots: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    confirmation: str = "unclear"
    emotion: str = "neutral"
    emotion_score: float = 0.0
    handoff: bool = False
    question: bool = False  # the customer asks something (a follow-up question keeps the stated issue)

    def to_dict(self, tokens: Sequence[str]) -> dict[str, Any]:
        """The JSON shape of `huashu analyze` and `/api/analyze`, with the message's words."""
        return {
            "text": self.text,
            "normalized": self.normalized,
            "tokens": list(tokens),
            "intent": self.intent,
            "confidence": round(self.confidence, 4),
            "alternatives": [{"intent": i, "score": round(s, 4)} for i, s in self.alternatives],
            "slots": dict(self.slots),
            "confirmation": self.confirmation,
            "emotion": {"label": self.emotion, "score": round(self.emotion_score, 4)},
            "handoff": self.handoff,
            "question": self.question,
        }
