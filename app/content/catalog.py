"""Selecting and presenting phrasings (CLI `huashu phrases`, `GET /api/phrases`)."""

from __future__ import annotations

from typing import Any

from app.content.model import Content, Phrase


def select_phrases(
    content: Content,
    *,
    stage: str | None = None,
    scenario: str | None = None,
    channel: str | None = None,
    query: str | None = None,
) -> list[Phrase]:
    """Phrasings matching every given filter; a scenario also matches generic phrasings (they fit any)."""
    selected = []
    for phrase in content.phrases.values():
        if stage and phrase.stage != stage:
            continue
        if scenario and phrase.scenarios and scenario not in phrase.scenarios:
            continue
        if channel and channel not in phrase.channels:
            continue
        if query and not any(query in t.source for t in phrase.templates) and query not in phrase.id and query not in phrase.keywords:
            continue
        selected.append(phrase)
    return selected


def phrase_to_dict(phrase: Phrase) -> dict[str, Any]:
    return {
        "id": phrase.id,
        "stage": phrase.stage,
        "scenarios": sorted(phrase.scenarios),
        "channels": sorted(phrase.channels),
        "text": phrase.text,
        "variants": [t.source for t in phrase.templates[1:]],
        "placeholders": sorted(phrase.placeholders),
        "keywords": list(phrase.keywords),
        "source": phrase.source,
    }
