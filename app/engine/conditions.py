"""Evaluating a route's `when` against what is known at this turn."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.content.model import Condition
from app.nlu.analysis import Analysis


@dataclass(frozen=True, slots=True)
class TurnContext:
    """The facts a route may test: the current message's analysis (if any), slots and counters."""

    analysis: Analysis | None
    slots: Mapping[str, str]
    counters: Mapping[str, int]
    follow_up: bool = False  # the message asks a new question after the issue was stated


def holds(condition: Condition, ctx: TurnContext) -> bool:
    a = ctx.analysis
    if condition.intents is not None and (a is None or a.intent not in condition.intents):
        return False
    if condition.not_intents is not None and a is not None and a.intent in condition.not_intents:
        return False
    if condition.emotions is not None and (a is None or a.emotion not in condition.emotions):
        return False
    if condition.confirmation is not None and (a is None or a.confirmation != condition.confirmation):
        return False
    if condition.handoff is not None and (a is not None and a.handoff) != condition.handoff:
        return False
    if condition.follow_up is not None and ctx.follow_up != condition.follow_up:
        return False
    if condition.confidence_below is not None and (a is None or a.confidence >= condition.confidence_below):
        return False
    if condition.topics is not None and ctx.slots.get("topic") not in condition.topics:
        return False
    if condition.slots_missing is not None and any(ctx.slots.get(s) for s in condition.slots_missing):
        return False
    if condition.slots_present is not None and not all(ctx.slots.get(s) for s in condition.slots_present):
        return False
    if condition.counters_at_least is not None and any(
        ctx.counters.get(name, 0) < least for name, least in condition.counters_at_least.items()
    ):
        return False
    return True
