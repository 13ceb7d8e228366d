"""What a rule is: a pure check over a replay that yields hits; the assessor turns hits into findings."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.content.model import Content
from app.engine.tagger import StageTagger
from app.pii import mask_all
from app.qa.forbidden import ForbiddenScanner
from app.qa.model import Evidence, Recommendation, Replay, TurnTag
from app.qa.rulebook import Param, RuleConfig


@dataclass(frozen=True, slots=True)
class Hit:
    """One violation a rule found at `turn`.

    `recommendation` is given only when the rule knows the exact fix (a forbidden word's replacement);
    otherwise the assessor picks the standard phrasing of the rule's `recommend` stage for this point.
    `facts` fill the rule's message template and are reported as the finding's `details`. `context_turn`
    points at the customer's message the recommendation should restate (a later message may have moved on).
    """

    turn: int
    evidence: Evidence
    severity: str | None = None
    recommendation: Recommendation | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)
    context_turn: int | None = None  # the turn whose slots and words fit the recommendation (default: `turn`)


@dataclass(frozen=True, slots=True)
class Kit:
    """What rules may consult besides the replay: the content, the engine's stage tagger and the
    forbidden-wording scanner built over the content's entries."""

    content: Content
    tagger: StageTagger
    forbidden: ForbiddenScanner


Check = Callable[[Replay, RuleConfig, Kit], Iterable[Hit]]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    check: Check
    params: Mapping[str, Param] = field(default_factory=dict)


def span_of(pattern: re.Pattern[str], text: str) -> Evidence | None:
    """The first match of `pattern` in `text` as evidence with offsets, or None."""
    match = pattern.search(text)
    return Evidence(match.group(), match.start(), match.end()) if match else None


def quote(turn: TurnTag, limit: int = 80) -> Evidence:
    """The whole turn as evidence (offsets cover it), personal numbers masked, shortened when long."""
    text = mask_all(turn.text)
    return Evidence(text if len(text) <= limit else text[: limit - 1] + "…", 0, len(turn.text))


def fulfils(turn: TurnTag, stage: str, extra: re.Pattern[str] | None = None) -> bool:
    """The agent turn fulfils `stage`: the engine's tagger found it, or one of the rule's own cues matches."""
    return stage in turn.stages or turn.stage == stage or (extra is not None and extra.search(turn.text) is not None)
