"""Ranking standard phrasings for a point in the script, with slots filled in.

The same ranking picks the bot's reply (the best fully-filled phrasing) and the agent sidebar's suggestions.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from app.content.model import Content, Phrase

_SCENARIO_BONUS = 2.0
_KEYWORD_BONUS = 1.5
_PERSONAL_BONUS = 0.75  # a phrasing about this customer's own data beats a general one
_MISSING_PENALTY = 3.0
_PREFERENCE_BONUS = 0.5
# Always filled by the engine (the customer's own words, the topic, the speaker's name), so they say
# nothing about whether a phrasing fits this customer's data.
_CONVERSATIONAL_SLOTS = frozenset({"issue", "topic", "agent_name"})


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


class _Scored(NamedTuple):
    """A candidate's score before its text and reasons are rendered (only the ones shown are: cheaper turns)."""

    raw: float
    phrase: Phrase
    missing: tuple[str, ...]
    hits: tuple[str, ...]  # the phrasing's keywords found in the customer's words
    matched: bool

    def reasons(self, stage: str, topic: str | None) -> str:
        parts = [f"stage {stage}"]
        if self.phrase.scenarios:
            parts.append(f"scenario {topic}")
        if self.hits:
            parts.append("keywords " + "、".join(self.hits[:3]))
        if self.missing:
            parts.append("missing " + ", ".join(self.missing))
        return "; ".join(parts)


class Suggester:
    def __init__(self, content: Content) -> None:
        self._facts = dict(content.facts)
        self._not_personal = frozenset(content.facts) | _CONVERSATIONAL_SLOTS
        self._phrases = content.phrases
        index: dict[tuple[str, str], list[Phrase]] = {}
        for phrase in content.phrases.values():
            for channel in phrase.channels:
                index.setdefault((phrase.stage, channel), []).append(phrase)
        self._by_stage_channel = {key: tuple(phrases) for key, phrases in index.items()}
        self._fitting: dict[tuple[str, str, str | None], tuple[Phrase, ...]] = {}

    def _candidates(self, stage: str, channel: str, topic: str | None) -> tuple[Phrase, ...]:
        """Phrasings of a stage for a channel that fit the topic (generic ones fit any), in file order."""
        key = (stage, channel, topic)
        fitting = self._fitting.get(key)
        if fitting is None:
            fitting = tuple(
                p for p in self._by_stage_channel.get((stage, channel), ()) if not p.scenarios or topic in p.scenarios
            )
            self._fitting[key] = fitting  # bounded: stages x channels x intents
        return fitting

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
        # Stable: equal scores keep the candidates' order (file order, or the order of `only`).
        scored = sorted(self._scored(stage, channel, topic, slots, words, only), key=lambda s: -s.raw)
        shown = scored[:limit] if limit else scored
        return [self._render(s, slots, turn, stage, topic) for s in shown]

    def best(
        self,
        stage: str,
        *,
        channel: str,
        topic: str | None,
        slots: Mapping[str, str],
        words: str = "",
        turn: int = 0,
        only: Sequence[str] = (),
        require_match: bool = False,
    ) -> Suggestion | None:
        """The best phrasing with every slot filled (and, if required, fitting the words): the bot's line."""
        winner: _Scored | None = None  # rank()'s first eligible candidate, without sorting them all
        for candidate in self._scored(stage, channel, topic, slots, words, only):
            if candidate.missing or (require_match and not candidate.matched):
                continue
            if winner is None or candidate.raw > winner.raw:
                winner = candidate
        return None if winner is None else self._render(winner, slots, turn, stage, topic)

    def _scored(
        self,
        stage: str,
        channel: str,
        topic: str | None,
        slots: Mapping[str, str],
        words: str,
        only: Sequence[str],
    ) -> Iterator[_Scored]:
        """Every candidate that fits the channel and topic, scored, in candidate order."""
        candidates = (
            [self._phrases[i] for i in only if i in self._phrases] if only else self._candidates(stage, channel, topic)
        )
        facts = self._facts
        for order, phrase in enumerate(candidates):
            if channel not in phrase.channels or (phrase.scenarios and topic not in phrase.scenarios):
                continue
            raw = 1.0 + _SCENARIO_BONUS if phrase.scenarios else 1.0
            hits = tuple(k for k in phrase.keywords if k in words) if words else ()
            if hits:
                raw += _KEYWORD_BONUS * min(len(hits), 3)
            personal = 0
            missing: list[str] = []
            for name in phrase.placeholders:
                if slots.get(name):
                    personal += name not in self._not_personal
                elif not facts.get(name):
                    missing.append(name)
            raw += _PERSONAL_BONUS * personal
            if only:
                raw += _PREFERENCE_BONUS * (len(only) - order) / len(only)
            if missing:
                missing.sort()
                raw -= _MISSING_PENALTY * len(missing)
            yield _Scored(raw, phrase, tuple(missing), hits, bool(hits or personal))

    def _render(
        self, scored: _Scored, slots: Mapping[str, str], turn: int, stage: str, topic: str | None
    ) -> Suggestion:
        phrase = scored.phrase
        text, _ = phrase.templates[turn % len(phrase.templates)].render(_Values(slots, self._facts))
        return Suggestion(
            phrase_id=phrase.id,
            text=text,
            stage=phrase.stage,
            score=round(1.0 / (1.0 + math.exp(-(scored.raw - 1.0) / 2.0)), 4),
            missing_slots=scored.missing,
            reason=scored.reasons(stage, topic),
            matched=scored.matched,
        )

    def render(self, phrase_id: str, slots: Mapping[str, str], turn: int = 0) -> Suggestion:
        """One given phrasing filled in (the agent sidebar's `phrase_id` use, QA recommendations)."""
        phrase = self._phrases[phrase_id]
        text, missing = phrase.templates[turn % len(phrase.templates)].render(_Values(slots, self._facts))
        return Suggestion(phrase.id, text, phrase.stage, 1.0, missing, "requested")


class _Values(Mapping[str, str]):
    """Slots over facts without copying either (a conversation's slots win)."""

    __slots__ = ("_facts", "_slots")

    def __init__(self, slots: Mapping[str, str], facts: Mapping[str, str]) -> None:
        self._slots = slots
        self._facts = facts

    def get(self, key: str, default: Any = None) -> Any:
        value = self._slots.get(key)
        return value if value else self._facts.get(key, default)

    def __getitem__(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return str(value)

    def __iter__(self) -> Iterator[str]:
        return iter({**self._facts, **self._slots})

    def __len__(self) -> int:
        return len({**self._facts, **self._slots})
