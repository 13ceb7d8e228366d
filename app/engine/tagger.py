"""Which script stage an agent's message fulfils: cue words from scripts_zh/stage_cues.yaml,
then the closest standard phrasing of that stage.

Used by assist mode (to follow the agent through the script) and by QA replay.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from app.content.model import Content

OTHER = "other"
_MIN_ANSWER_LENGTH = 6  # an agent message with no cue but some substance is taken as an answer
_PHRASE_MATCH_CUTOFF = 60.0


@dataclass(frozen=True, slots=True)
class StageTag:
    stage: str  # the stage the message ends in (it moves the script)
    stages: tuple[str, ...]  # every stage found, in order of appearance
    phrase_id: str | None = None
    score: float = 0.0


class StageTagger:
    def __init__(self, content: Content) -> None:
        # One alternation, longest cue first, scans a message once in C; where cues overlap, the longest
        # ("还有其他需要帮助") wins over a shorter one inside it.
        self._stage_of = {cue: stage for stage, cues in content.stage_cues.items() for cue in cues if cue}
        cues = sorted(self._stage_of, key=len, reverse=True)
        self._cue_pattern = re.compile("|".join(map(re.escape, cues))) if cues else None
        # Agents repeat themselves across conversations ("请问还有其他问题吗"); tags are immutable.
        self._cached_tag = lru_cache(maxsize=8192)(self._tag)
        self._texts: dict[str, tuple[list[str], list[str]]] = {}
        for phrase in content.phrases.values():
            ids, texts = self._texts.setdefault(phrase.stage, ([], []))
            for template in phrase.templates:
                ids.append(phrase.id)
                texts.append("".join(template.parts[0::2]))  # literals only: slot values vary

    def stages_in(self, text: str) -> tuple[str, ...]:
        """Every stage whose cue occurs in `text`, in order of first appearance."""
        if self._cue_pattern is None:
            return ()
        seen: dict[str, None] = {}
        for match in self._cue_pattern.finditer(text):
            seen.setdefault(self._stage_of[match.group()], None)
        return tuple(seen)

    def tag(self, text: str, *, phrase_id: str | None = None, phrase_stage: str | None = None) -> StageTag:
        """Tag an agent message; a `phrase_id` the agent picked from the sidebar decides the stage."""
        return self._cached_tag(text, phrase_id, phrase_stage)

    def _tag(self, text: str, phrase_id: str | None, phrase_stage: str | None) -> StageTag:
        if phrase_id is not None and phrase_stage is not None:
            stages = self.stages_in(text) or (phrase_stage,)
            return StageTag(phrase_stage, stages if phrase_stage in stages else (*stages, phrase_stage), phrase_id, 100.0)
        stages = self.stages_in(text)
        if not stages:
            stage = "answer" if len(text.strip()) >= _MIN_ANSWER_LENGTH else OTHER
            return StageTag(stage, (stage,) if stage != OTHER else ())
        stage = stages[-1]
        match_id, score = self.closest_phrase(text, stage)
        return StageTag(stage, stages, match_id, score)

    def closest_phrase(self, text: str, stage: str) -> tuple[str | None, float]:
        ids, texts = self._texts.get(stage, ([], []))
        if not texts:
            return None, 0.0
        best = process.extractOne(text, texts, scorer=fuzz.ratio, score_cutoff=_PHRASE_MATCH_CUTOFF)
        if best is None:
            return None, 0.0
        _, score, index = best
        return ids[index], round(float(score), 1)
