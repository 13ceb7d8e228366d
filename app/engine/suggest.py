"""Ranking standard phrasings for a point in the script, with slots filled in.

The same ranking picks the bot's reply (the best fully-filled phrasing) and the agent sidebar's suggestions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.content.model import Content, Phrase

_SCENARIO_BONUS = 2.0
_KEYWORD_BONUS = 1.5
_PERSONAL_BONUS = 0.75  # a phrasing about this customer's own data beats a general one
_MISSING_PENALTY = 3.0
_PREFERENCE_BONUS = 0.5
# Always filled by the engine (the customer's own words, the topic, the speaker's name), so they say
# nothing about whether a phrasing fits this customer's data.
_CONVERSATIONAL_SLOTS = frozenset({"issue", "topic", "agent_name", "customer_name"})


@dataclass(frozen=True, slots=True)
class Suggestion:
    phrase_id: str
    text: str
    stage: str
    score: float
    missing_slots: tuple[str, ...] = ()
    reason: str = ""
    matched: bool = False  # a keyword or the customer's own data made this phrasing fit

    def to_dict(self) -> dict[str, Any]:
        return {
            "phrase_id": self.phrase_id,
            "text": self.text,
            "stage": self.stage,
            "score": self.score,
            "missing_slots": list(self.missing_slots),
            "reason": self.reason,
        }


class Suggester:
    def __init__(self, content: Content) -> None:
        self._facts = dict(content.facts)
        self._not_personal = frozenset(content.facts) | _CONVERSATIONAL_SLOTS
        by_stage: dict[str, list[Phrase]] = {}
        for phrase in content.phrases.values():
            by_stage.setdefault(phrase.stage, []).append(phrase)
        self._by_stage = {stage: tuple(phrases) for stage, phrases in by_stage.items()}
        self._phrases = content.phrases

    def rank(
        self,
        stage: str,
        *,
        channel: str,
        topic: str | None,
        slots: Mapping[str, str],
        words: str = "",
        turn: int = 0,
        only: Sequence[str] = (),
        limit: int = 5,
    ) -> list[Suggestion]:
        """Phrasings of `stage` for `channel`, best first.

        `words` is the customer's text the phrasing should fit (keywords are looked up in it); `only`
        restricts to (and prefers in that order) the given phrase ids; `turn` rotates variants
        deterministically so a long conversation does not repeat itself word for word.
        """
        candidates = [self._phrases[i] for i in only if i in self._phrases] if only else self._by_stage.get(stage, ())
        values = {**self._facts, **slots}
        ranked: list[tuple[float, int, Suggestion]] = []
        for order, phrase in enumerate(candidates):
            if channel not in phrase.channels:
                continue
            if phrase.scenarios and topic not in phrase.scenarios:
                continue
            raw = 1.0
            reasons = [f"stage {stage}"]
            if phrase.scenarios:
                raw += _SCENARIO_BONUS
                reasons.append(f"scenario {topic}")
            hits = [k for k in phrase.keywords if k and k in words]
            if hits:
                raw += _KEYWORD_BONUS * min(len(hits), 3)
                reasons.append("keywords " + "、".join(hits[:3]))
            personal = [p for p in phrase.placeholders if p not in self._not_personal and slots.get(p)]
            raw += _PERSONAL_BONUS * len(personal)
            if only:
                raw += _PREFERENCE_BONUS * (len(only) - order) / len(only)
            template = phrase.templates[turn % len(phrase.templates)]
            text, missing = template.render(values)
            if missing:
                raw -= _MISSING_PENALTY * len(missing)
                reasons.append("missing " + ", ".join(missing))
            score = round(1.0 / (1.0 + math.exp(-(raw - 1.0) / 2.0)), 4)
            suggestion = Suggestion(
                phrase_id=phrase.id,
                text=text,
                stage=phrase.stage,
                score=score,
                missing_slots=missing,
                reason="; ".join(reasons),
                matched=bool(hits or personal),
            )
            ranked.append((-score, order, suggestion))
        ranked.sort(key=lambda item: (item[0], item[1]))
        return [s for _, _, s in ranked[:limit]] if limit else [s for _, _, s in ranked]

    def render(self, phrase_id: str, slots: Mapping[str, str], turn: int = 0) -> Suggestion:
        """One given phrasing filled in (the agent sidebar's `phrase_id` use, QA recommendations)."""
        phrase = self._phrases[phrase_id]
        text, missing = phrase.templates[turn % len(phrase.templates)].render({**self._facts, **slots})
        return Suggestion(phrase.id, text, phrase.stage, 1.0, missing, "requested")
