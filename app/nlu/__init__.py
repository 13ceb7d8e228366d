"""Chinese NLU for customer messages: normalise, segment, intent, slots, confirmation, emotion."""

from __future__ import annotations

from app.nlu.analysis import CONFIRMATIONS, EMOTIONS, INTENTS, Analysis

__all__ = ["Analysis", "CONFIRMATIONS", "EMOTIONS", "INTENTS"]
