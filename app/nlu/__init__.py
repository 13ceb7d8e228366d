"""Chinese NLU for customer messages: normalise, segment, intent, slots, confirmation, emotion."""

from __future__ import annotations

from app.nlu.analysis import CONFIRMATIONS, EMOTIONS, INTENTS, Analysis
from app.nlu.analyzer import Analyzer, get_analyzer

__all__ = ["CONFIRMATIONS", "EMOTIONS", "INTENTS", "Analysis", "Analyzer", "get_analyzer"]
