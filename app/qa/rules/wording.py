"""Wording rules: negative wording from scripts_zh/forbidden.yaml (`forbidden.phrase`) and full personal
numbers repeated back to the customer (`pii.exposed`).
"""

from __future__ import annotations

from collections.abc import Iterator

from app.pii import KINDS, find_exposures, mask_all
from app.qa.model import Evidence, Recommendation, Replay
from app.qa.rulebook import Param, RuleConfig
from app.qa.rules.base import Hit, Kit, Rule


def forbidden_phrase(replay: Replay, cfg: RuleConfig, kit: Kit) -> Iterator[Hit]:
    allowed_contexts = cfg.pattern("allow_contexts")
    for turn in replay.agent_turns:
        allowed: list[tuple[int, int]] | None = None
        for entry, match in kit.forbidden.matches(turn.text):
            if allowed is None:
                allowed = [m.span() for m in allowed_contexts.finditer(turn.text)]
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


def pii_exposed(replay: Replay, cfg: RuleConfig, kit: Kit) -> Iterator[Hit]:
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
        masked_text = mask_all(turn.text)
        for exposure in exposures:
            # The evidence is masked too: the report must not spread the number it warns about.
            yield Hit(
                turn.index,
                Evidence(exposure.masked, exposure.start, exposure.end),
                recommendation=Recommendation(None, masked_text, turn.stage),
                facts={"kind": exposure.kind, "kind_label": cfg.label("kind_labels", exposure.kind)},
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
            "kind_labels": Param("labels", {}),
        },
    ),
)
