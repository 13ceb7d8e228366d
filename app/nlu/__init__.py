"""Chinese NLU for customer messages: normalise, segment, intent, slots, confirmation, emotion."""

from __future__ import annotations

from app.nlu.analysis import CONFIRMATIONS, CORE_INTENTS, EMOTIONS, Analysis
from app.nlu.analyzer import Analyzer, get_analyzer

__all__ = ["CONFIRMATIONS", "CORE_INTENTS", "EMOTIONS", "Analysis", "Analyzer", "get_analyzer"]
