"""Wording rules: negative wording from scripts_zh/forbidden.yaml (`forbidden.phrase`) and full personal
numbers repeated back to the customer (`pii.exposed`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from app.content.model import Content, ForbiddenPhrase
from app.qa.model import Evidence, Recommendation, Replay
from app.qa.pii import KINDS, find_exposures
from app.qa.rulebook import Param, RuleConfig
from app.qa.rules.base import Hit, Rule


@lru_cache(maxsize=8)
def _any_forbidden(entries: tuple[ForbiddenPhrase, ...]) -> re.Pattern[str]:
    """One pattern that finds whether a text has any forbidden wording at all (most replies have none)."""
    return re.compile("|".join(f"(?:{e.pattern.pattern})" for e in entries)) if entries else re.compile(r"(?!)")


def forbidden_phrase(replay: Replay, cfg: RuleConfig, content: Content) -> Iterator[Hit]:
    screen = _any_forbidden(content.forbidden)
    allowed_contexts = cfg.pattern("allow_contexts")
    for turn in replay.agent_turns:
        if screen.search(turn.text) is None:
            continue
        allowed = [m.span() for m in allowed_contexts.finditer(turn.text)]
        for entry in content.forbidden:
            for match in entry.pattern.finditer(turn.text):
                start, end = match.span()
                if any(s <= start and end <= e for s, e in allowed):
                    continue  # e.g. "不行的话…" is a condition, not a refusal
                yield Hit(
                    turn.index,
                    Evidence(match.group(), start, end),
                    severity=entry.severity,
                    recommendation=Recommendation(entry.id, entry.replacement),
                    facts={"forbidden": entry.id, "phrase": entry.phrase, "reason": entry.reason, "forbidden_source": entry.source},
                )


def pii_exposed(replay: Replay, cfg: RuleConfig, content: Content) -> Iterator[Hit]:
    kinds = cfg.names("kinds")
    order_words = cfg.pattern("order_context")
    window = cfg.integer("context_chars")
    for turn in replay.agent_turns:
        exposures = [
            e
            for e in find_exposures(turn.text, kinds)
            if e.kind == "id_card" or not order_words.search(turn.text[max(0, e.start - window) : e.start])
        ]
        if not exposures:
            continue
        masked_text = turn.text
        for exposure in reversed(exposures):
            masked_text = masked_text[: exposure.start] + exposure.masked + masked_text[exposure.end :]
        for exposure in exposures:
            # The evidence is masked too: the report must not spread the number it warns about.
            yield Hit(
                turn.index,
                Evidence(exposure.masked, exposure.start, exposure.end),
                recommendation=Recommendation(None, masked_text, turn.stage),
                facts={"kind": exposure.kind},
            )


RULES = (
    Rule("forbidden.phrase", forbidden_phrase, {"allow_contexts": Param("cues")}),
    Rule(
        "pii.exposed",
        pii_exposed,
        {
            "kinds": Param("choices", list(KINDS), KINDS),
            "order_context": Param("cues"),
            "context_chars": Param("integer", 6),
        },
    ),
)
