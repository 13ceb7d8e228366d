"""Whether the agent sidebar offered what real agents did next (`huashu qa suggest-eval`).

The stage gold (`qa_data/jddc_stage_gold.jsonl`) says which script stage each labelled agent turn fulfils.
Each labelled transcript is run through the engine in assist mode event by event, as the sidebar sees it,
and the suggestions shown just before a labelled agent turn are compared with that turn's gold stage: was
the first suggestion of that stage, was any? Turns labelled `other` (talk outside the script) are not
scored: no phrasing is meant for them. Pure: the engine step is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from app.engine.events import AgentSaid, CustomerSaid
from app.engine.step import Engine
from app.engine.tagger import OTHER
from app.qa.model import AGENT_ROLES
from app.qa.stage_gold import GoldTurn
from app.transcripts import Transcript

MOST_CONFUSED: Final = 10
NOTHING: Final = "(nothing)"


@dataclass
class SuggestionAgreement:
    turns: int = 0
    first: int = 0  # the first suggestion was of the gold stage
    shown: int = 0  # some suggestion was
    confused: Counter[tuple[str, str]] = field(default_factory=Counter)  # (gold stage, first suggestion's stage)

    def to_dict(self) -> dict[str, Any]:
        return {
            "turns": self.turns,
            "first": {"turns": self.first, "rate": _rate(self.first, self.turns)},
            "shown": {"turns": self.shown, "rate": _rate(self.shown, self.turns)},
            "confused": [{"gold": gold, "suggested": suggested, "count": count}
                         for (gold, suggested), count in self.confused.most_common(MOST_CONFUSED)],
        }

    def render(self) -> str:
        lines = [f"labelled agent turns: {self.turns}",
                 f"first suggestion of the agent's stage: {self.first}/{self.turns} = {_rate(self.first, self.turns):.1%}",
                 f"any suggestion of the agent's stage: {self.shown}/{self.turns} = {_rate(self.shown, self.turns):.1%}"]
        if self.confused:
            lines += ["", "most frequent misses (agent's stage → first suggestion's stage):"]
            lines += [f"  {gold} → {suggested}: {count}" for (gold, suggested), count in self.confused.most_common(MOST_CONFUSED)]
        return "\n".join(lines)


def suggestion_agreement(engine: Engine, transcripts: Iterable[Transcript], gold: Sequence[GoldTurn],
                         split: str) -> SuggestionAgreement:
    """Score the sidebar before every gold turn of `split` ("dev", "test" or "all") that is not `other`."""
    wanted: dict[str, dict[int, str]] = {}
    for g in gold:
        if (split == "all" or g.split == split) and g.stage != OTHER:
            wanted.setdefault(g.session, {})[g.turn] = g.stage
    result = SuggestionAgreement()
    for transcript in transcripts:
        labelled = wanted.get(transcript.id)
        if not labelled:
            continue
        first_ts = next((t.ts for t in transcript.turns if t.ts is not None), None)
        step = engine.start(transcript.id, flow=transcript.flow, channel=transcript.channel, mode="assist", at=first_ts)
        for index, turn in enumerate(transcript.turns):
            if turn.role in AGENT_ROLES:
                stage = labelled.get(index)
                if stage is not None:
                    _score(result, stage, [s.stage for s in step.suggestions])
                agent = transcript.agent if turn.role == "agent" else None
                step = engine.step(step.conversation, AgentSaid(turn.text, agent=agent, at=turn.ts))
            else:
                step = engine.step(step.conversation, CustomerSaid(turn.text, at=turn.ts))
    return result


def _score(result: SuggestionAgreement, stage: str, suggested: list[str]) -> None:
    result.turns += 1
    first = suggested[0] if suggested else NOTHING
    result.first += first == stage
    result.shown += stage in suggested
    if first != stage:
        result.confused[(stage, first)] += 1


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0
