"""The assessor: replay a transcript, run the enabled rules, attach recommendations, score.

Built once per process from an engine and a rule book; `assess` is pure (the engine step is) and is what
the CLI, the worker processes, the REST routes and `qa diff` all call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from app.content.errors import ContentErrors
from app.engine.step import Engine
from app.errors import EngineError
from app.pii import mask_all
from app.qa.forbidden import ForbiddenScanner
from app.qa.model import Assessment, Evidence, Finding, Recommendation, Replay
from app.qa.replay import replay
from app.qa.rulebook import RuleBook, RuleConfig
from app.qa.rules import RULES, SPECS, Hit
from app.qa.rules.base import Kit
from app.qa.scoring import score
from app.transcripts import Transcript


class Assessor:
    def __init__(self, engine: Engine, rulebook: RuleBook, *, flow: str | None = None) -> None:
        """Raises `ContentErrors` when the rules recommend phrasings the content does not have."""
        defects = rulebook.unknown_phrases(engine.content) + rulebook.unknown_intents(engine.content, SPECS)
        if defects:
            raise ContentErrors(list(defects))
        self.engine = engine
        self.rulebook = rulebook
        self.flow = flow
        self.versions = {"content": engine.content.version, "rules": rulebook.version}
        self._rules = tuple((RULES[config.id], config) for config in rulebook.enabled)
        self._kit = Kit(engine.content, engine.tagger, ForbiddenScanner(engine.content.forbidden))
        self._order = {config.id: position for position, config in enumerate(rulebook.rules.values())}

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(config.id for _, config in self._rules)

    def assess(self, transcript: Transcript, *, source: str | None = None) -> Assessment:
        """The assessment of one transcript; a transcript the engine cannot replay comes back with `error`."""
        try:
            replayed = replay(self.engine, transcript, flow=self.flow)
        except EngineError as exc:
            return Assessment(
                transcript.id,
                transcript.channel,
                transcript.agent,
                transcript.flow or self.flow,
                None,
                error=f"{exc.code}: {exc}",
                versions=self.versions,
                source=source,
            )
        findings: list[Finding] = []
        for rule, config in self._rules:
            for count, hit in enumerate(rule.check(replayed, config, self._kit), start=1):
                findings.append(self._finding(replayed, config, hit))
                if config.max_findings is not None and count >= config.max_findings:
                    break
        findings.sort(key=lambda f: (f.turn, self._order.get(f.rule, 0)))
        value, fatal = score(findings, self.rulebook)
        return Assessment(
            replayed.id,
            replayed.channel,
            replayed.agent,
            replayed.flow,
            value,
            tuple(findings),
            replayed.turns,
            fatal,
            versions=self.versions,
            source=source,
            rating=transcript.aftercare.get("rating"),
        )

    def _finding(self, replayed: Replay, config: RuleConfig, hit: Hit) -> Finding:
        """The finding of one hit, every text it quotes masked.

        Masking here, where findings are made, covers JSON, CSV, HTML and REST alike: recommendations restate
        the customer's words ("您的意思是您的手机号138…") and reports get forwarded.
        """
        severity = hit.severity or config.severity
        recommendation = hit.recommendation or self._recommend(replayed, config, hit)
        return Finding(
            rule=config.id,
            turn=hit.turn,
            severity=severity,
            message=mask_all(_fill(config.message, hit.facts)),
            evidence=_masked_evidence(hit.evidence, replayed.turns[hit.turn].text),
            recommendation=_masked_recommendation(recommendation),
            points=config.points(severity),
            fatal=config.is_fatal(severity),
            source=config.source,
            details={k: mask_all(v) if isinstance(v, str) else v for k, v in hit.facts.items()},
        )

    def _recommend(self, replayed: Replay, config: RuleConfig, hit: Hit) -> Recommendation | None:
        """The standard phrasing of the rule's stage that fits this point: channel, topic, slots, the customer's words."""
        if config.recommend is None:
            return None
        at = hit.turn if hit.context_turn is None else hit.context_turn
        turn = replayed.turns[at]
        customer = replayed.customer_before(at + 1)
        rank = self.engine.suggester.rank
        slots = dict(turn.context)
        if replayed.agent and not slots.get("agent_name"):
            slots["agent_name"] = replayed.agent  # "我是{agent_name}": the agent the transcript names
        kwargs: dict[str, Any] = {
            "channel": replayed.channel,
            "topic": turn.topic,
            "slots": slots,
            "words": customer.text if customer else "",
            "limit": 5,
        }
        ranked = rank(config.recommend.stage, only=config.recommend.phrases, **kwargs) if config.recommend.phrases else []
        if not ranked:
            ranked = rank(config.recommend.stage, **kwargs)
        if not ranked:
            return None
        # Filled in from the conversation: a phrasing whose slots it can fill, before one showing a raw {slot}.
        best = next((s for s in ranked if not s.missing_slots), ranked[0])
        return Recommendation(best.phrase_id, best.text, best.stage, best.missing_slots)


def _masked_evidence(evidence: Evidence, turn_text: str) -> Evidence:
    """`evidence` with personal numbers masked.

    A span is cut from the masked turn (masking keeps every offset), so a span holding only part of a number
    is masked as the whole number is.
    """
    start, end = evidence.start, evidence.end
    if start is not None and end is not None and turn_text[start:end] == evidence.text:
        text = mask_all(turn_text)[start:end]
    else:
        text = mask_all(evidence.text)
    return evidence if text == evidence.text else replace(evidence, text=text)


def _masked_recommendation(recommendation: Recommendation | None) -> Recommendation | None:
    if recommendation is None:
        return None
    text = mask_all(recommendation.text)
    return recommendation if text == recommendation.text else replace(recommendation, text=text)


class _Facts(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fill(template: str, facts: Mapping[str, Any]) -> str:
    try:
        return template.format_map(_Facts(facts))
    except (ValueError, IndexError, AttributeError):
        return template
