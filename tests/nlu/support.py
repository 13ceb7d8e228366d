"""Shared constants of the NLU tests."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from app.content.loader import load_intents
from app.nlu.analyzer import DEFAULT_SCRIPTS_DIR
from app.nlu.resources import PackData

# A Sunday, so "上周三", "本周五" and "下周一" each land in a different week.
TODAY = date(2026, 11, 22)
HELDOUT = Path(__file__).resolve().parents[2] / "nlu_data" / "heldout.jsonl"
# Real anonymised JD.com chats, outside the repository; tests that read it skip when it is absent.
JDDC = Path(__file__).resolve().parents[3] / "shared" / "data" / "jddc" / "chat_sample.tsv"
# The default (retail) pack's NLU data and its declared intents, read as the analyzer reads them.
PACK_DATA = PackData(DEFAULT_SCRIPTS_DIR / "nlu")
PACK_INTENTS = load_intents(DEFAULT_SCRIPTS_DIR)
INTENTS = tuple(PACK_INTENTS)
TRAINING = [{"text": text, "intent": spec.name} for spec in PACK_INTENTS.values() for text in spec.examples]
