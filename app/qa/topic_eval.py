"""How well the engine follows what real conversations are about (`huashu qa topic-eval`).

A gold file of customer-turn intents (`{"session", "turn", "split", "intent"}`, as `nlu_data/jddc_intent_gold.jsonl`)
implies a topic at each labelled turn: the last labelled intent so far that is one of the flow's topics.
A fragment ("没成功啊", "那怎么办呢") is `other` on its own, but the conversation is still about the
order; single-message accuracy does not see that, and this does. Each labelled transcript is replayed in
assist mode (as QA replay does) and the engine's topic after the turn is compared with the implied one;
labelled turns before any topic are not scored. Pure: the replay is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from app.engine.step import Engine
from app.qa.replay import replay
from app.transcripts import Transcript

MOST_CONFUSED: Final = 10
NO_TOPIC: Final = "(none)"


@dataclass
class TopicAgreement:
    """Counts over the scored turns; `fragments` are the turns whose own intent is not a topic."""

    turns: int = 0
    agreed: int = 0
    fragments: int = 0
    fragments_agreed: int = 0
    confused: Counter[tuple[str, str]] = field(default_factory=Counter)  # (gold topic, engine topic)

    @property
    def agreement(self) -> float:
        return self.agreed / self.turns if self.turns else 0.0

    @property
    def fragment_agreement(self) -> float:
        return self.fragments_agreed / self.fragments if self.fragments else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "turns": self.turns, "agreed": self.agreed, "agreement": round(self.agreement, 4),
            "fragments": {"turns": self.fragments, "agreed": self.fragments_agreed,
                          "agreement": round(self.fragment_agreement, 4)},
            "confused": [{"gold": gold, "engine": engine, "count": count}
                         for (gold, engine), count in self.confused.most_common(MOST_CONFUSED)],
        }

    def render(self) -> str:
        lines = [f"engine topic = gold topic: {self.agreed}/{self.turns} = {self.agreement:.1%}",
                 f"  on fragments (the turn's own intent is no topic): {self.fragments_agreed}/{self.fragments}"
                 f" = {self.fragment_agreement:.1%}"]
        if self.confused:
            lines += ["", "most confused (gold topic → engine topic):"]
            lines += [f"  {gold} → {engine}: {count}" for (gold, engine), count in self.confused.most_common(MOST_CONFUSED)]
        return "\n".join(lines)


def topic_agreement(engine: Engine, transcripts: Iterable[Transcript],
                    labels: Mapping[str, Mapping[int, str]]) -> TopicAgreement:
    """Replay every transcript that `labels` (session → turn index → intent) covers and score its topics."""
    result = TopicAgreement()
    for transcript in transcripts:
        labelled = labels.get(transcript.id)
        if not labelled:
            continue
        replayed = replay(engine, transcript)
        topics = engine.content.flows[replayed.flow].topics
        gold_topic: str | None = None
        for tag in replayed.turns:
            intent = labelled.get(tag.index)
            if intent is None or tag.role != "customer":
                continue
            if intent in topics:
                gold_topic = intent
            if gold_topic is None:
                continue
            engine_topic = tag.context.get("topic") or NO_TOPIC
            agreed = engine_topic == gold_topic
            result.turns += 1
            result.agreed += agreed
            if intent not in topics:
                result.fragments += 1
                result.fragments_agreed += agreed
            if not agreed:
                result.confused[(gold_topic, engine_topic)] += 1
    return result
