"""Shared constants of the NLU tests."""

from __future__ import annotations

from datetime import date
from pathlib import Path

# A Sunday, so "上周三", "本周五" and "下周一" each land in a different week.
TODAY = date(2026, 11, 22)
HELDOUT = Path(__file__).resolve().parents[2] / "nlu_data" / "heldout.jsonl"
# Real anonymised JD.com chats, outside the repository; tests that read it skip when it is absent.
JDDC = Path(__file__).resolve().parents[3] / "shared" / "data" / "jddc" / "chat_sample.tsv"
