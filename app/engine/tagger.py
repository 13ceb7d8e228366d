"""Which script stage(s) an agent's message fulfils: cues from scripts_zh/stage_cues.yaml, then the closest
standard phrasing of the primary stage.

Real speech carries several acts in one turn ("您好先生,让您久等了,您的订单已经发货了" greets, thanks for
waiting and answers), fillers (嗯/啊/呃/哈/亲), ASR gaps (`_`) and pasted order data. A turn is read as
acts in order of appearance:

1. every stage's cues (literal or pattern) and the `no_act` cues are found; where matches overlap the longer
   one wins (ties: the earlier stage in the file), so "还有其他可以帮到您的吗" is a close-check, not a confirm;
2. a stretch of a clause that no cue covers and that has substance (enough letters or digits once
   fillers and placeholders are gone) is an `answer`: real agents inform without cue words;
3. the primary `stage` is the last act, except that a trailing `greeting` or `apology` after another act
   frames the move rather than making it; inside an opening that greets, `listen` ("在的", "请讲") is part of
   the greeting ("喂您好请讲" is a greeting), and a hold request after a transfer is part of the hand-off;
   after a farewell, uncued talk (wishes, rating instructions) is closing talk, not an answer.
   docs/qa.md (annotation guide) states the same rules for people.

Used by assist mode (to follow the agent through the script) and by QA replay.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from rapidfuzz import fuzz, process

from app.content.model import Content

OTHER = "other"
_ANSWER: Final = "answer"
_FAREWELL: Final = "farewell"
_COURTESY: Final = frozenset({"greeting", "apology"})  # frame a move; primary only when nothing else is said
# Letters/digits an uncued stretch needs to count as an answer: fewer in a clause of its own ("集显的驱动")
# than beside a cue in the same clause, where the rest is mostly the cue's own words ("订单号方便提供下吗").
_SUBSTANCE_ALONE: Final = 4
_SUBSTANCE_BESIDE_CUE: Final = 6
_PHRASE_MATCH_CUTOFF = 60.0
_VERBATIM: Final = 90.0  # this close to a standard phrasing, the agent (or bot) said that phrasing
# Clause boundaries: punctuation and the spaces chat agents use between sentences.
_CLAUSE_BREAK: Final = re.compile(r"[，,。．！!？?；;：:、~～…\s]+")
_LETTERS: Final = re.compile(r"[0-9A-Za-z\u3400-\u9fff]")
_FREE_RUN: Final = re.compile(rb"[^\x02]+")  # a stretch of `cover` with no stage cue


@dataclass(frozen=True, slots=True)
class StageTag:
    stage: str  # the stage the message moves the script to (the primary act)
    stages: tuple[str, ...]  # every stage found, in order of first appearance; () for `other`
    phrase_id: str | None = None
    score: float = 0.0


class StageTagger:
    def __init__(self, content: Content) -> None:
        cues = content.stage_cues
        # One compiled alternation per stage (and one for no-act words); a message is scanned once per group.
        self._groups: list[tuple[str | None, re.Pattern[str]]] = [
            (stage, re.compile("|".join(f"(?:{p})" for p in patterns))) for stage, patterns in cues.stages.items() if patterns
        ]
        if cues.no_act:
            self._groups.append((None, re.compile("|".join(f"(?:{p})" for p in cues.no_act))))
        # Agents repeat themselves across conversations ("请问还有其他问题吗"); tags are immutable.
        self._cached_tag = lru_cache(maxsize=8192)(self._tag)
        by_stage: dict[str, list[tuple[str, str, str]]] = {}
        for phrase in content.phrases.values():
            for template in phrase.templates:
                literal = "".join(template.parts[0::2])  # literals only: slot values vary
                by_stage.setdefault(phrase.stage, []).append((literal, phrase.id, phrase.stage))
        self._phrasings = {stage: _Phrasings(entries) for stage, entries in by_stage.items()}
        self._standard = _Phrasings([entry for entries in by_stage.values() for entry in entries])

    def acts(self, text: str, *, uncued: bool = True) -> list[str]:
        """The acts of `text` in order of appearance (a stage may occur more than once); with
        `uncued=False` only what the cues say, without answers read from uncued stretches."""
        found: list[tuple[int, int, int, str | None]] = []
        for order, (stage, pattern) in enumerate(self._groups):
            found += ((m.start(), m.end(), order, stage) for m in pattern.finditer(text) if m.end() > m.start())
        acts: list[tuple[int, str]] = []
        no_act: list[tuple[int, int]] = []
        cover = bytearray(len(text))  # 0 free, 1 a no-act word, 2 a stage cue
        for start, end, _, stage in sorted(found, key=lambda f: (f[0] - f[1], f[2], f[0])):
            if not any(cover[start:end]):
                cover[start:end] = (b"\x01" if stage is None else b"\x02") * (end - start)
                if stage is None:
                    no_act.append((start, end))
                else:
                    acts.append((start, stage))
        if uncued:
            acts += ((start, _ANSWER) for start in _uncued_stretches(_blanked(text, no_act), bytes(cover)))
        acts.sort()
        ordered = [stage for _, stage in acts]
        if _FAREWELL in ordered:  # after the goodbye, wishes and rating instructions are closing talk
            first = ordered.index(_FAREWELL)
            ordered = ordered[:first] + [act for act in ordered[first:] if act != _ANSWER]
        return ordered

    def stages_in(self, text: str) -> tuple[str, ...]:
        """Every stage whose cue occurs in `text`, in order of first appearance (no answers read from
        uncued text: QA rules use this to ask whether a clause carries any cue at all)."""
        return tuple(dict.fromkeys(self._absorbed(self.acts(text, uncued=False))))

    def tag(self, text: str, *, phrase_id: str | None = None, phrase_stage: str | None = None) -> StageTag:
        """Tag an agent message; a `phrase_id` the agent picked from the sidebar decides the stage."""
        return self._cached_tag(text, phrase_id, phrase_stage)

    def _tag(self, text: str, phrase_id: str | None, phrase_stage: str | None) -> StageTag:
        acts = self._absorbed(self.acts(text))
        stages = tuple(dict.fromkeys(acts))
        if phrase_id is not None and phrase_stage is not None:
            stages = stages or (phrase_stage,)
            return StageTag(phrase_stage, stages if phrase_stage in stages else (*stages, phrase_stage), phrase_id, 100.0)
        verbatim = self._standard.closest(text, _VERBATIM)
        if verbatim is not None:  # a standard phrasing of the script says which stage it is, whatever else it does
            standard_id, standard_stage, score = verbatim
            # Its other acts are courtesy only: "请您放心,这件事我会负责跟进到底" in an apology phrasing
            # promises nothing the script has not yet said.
            kept = tuple(act for act in stages if act == standard_stage or act in _COURTESY)
            listed = kept if standard_stage in kept else (*kept, standard_stage)
            return StageTag(standard_stage, listed, standard_id, score)
        if not acts:
            return StageTag(OTHER, ())
        moves = [act for act in acts if act not in _COURTESY]
        stage = moves[-1] if moves and acts[-1] in _COURTESY else acts[-1]
        match_id, score = self.closest_phrase(text, stage)
        return StageTag(stage, stages, match_id, score)

    @staticmethod
    def _absorbed(acts: list[str]) -> list[str]:
        """Acts that are part of another: `listen` in an opening that greets ("喂您好请讲"), a hold request
        after a transfer announcement ("正在为您转接人工客服,请稍候")."""
        if "greeting" in acts:
            acts = [act for act in acts if act != "listen"]
        if "hand-off" in acts:
            first = acts.index("hand-off")
            acts = acts[:first] + [act for act in acts[first:] if act != "waiting"]
        return acts

    def standard_stage(self, text: str) -> str | None:
        """The stage of the standard phrasing `text` is (within fuzzy-match distance), if it is one."""
        verbatim = self._standard.closest(text, _VERBATIM)
        return verbatim[1] if verbatim is not None else None

    def closest_phrase(self, text: str, stage: str) -> tuple[str | None, float]:
        phrasings = self._phrasings.get(stage)
        best = phrasings.closest(text, _PHRASE_MATCH_CUTOFF) if phrasings else None
        return (best[0], best[2]) if best else (None, 0.0)


class _Phrasings:
    """Standard phrasings sorted by length: a message is compared only with those long enough to reach
    the cutoff at all (ratio = 2·matches / (a + b) ≥ r needs min(a, b) / max(a, b) ≥ r / (200 − r))."""

    def __init__(self, entries: list[tuple[str, str, str]]) -> None:
        entries = sorted(entries, key=lambda entry: len(entry[0]))
        self._texts = [text for text, _, _ in entries]
        self._lengths = [len(text) for text in self._texts]
        self._labels = [(phrase_id, stage) for _, phrase_id, stage in entries]

    def closest(self, text: str, cutoff: float) -> tuple[str, str, float] | None:
        """(phrase id, stage, score) of the closest phrasing scoring at least `cutoff`, or None."""
        bound = cutoff / (200.0 - cutoff)
        low = bisect_left(self._lengths, math.ceil(len(text) * bound))
        high = bisect_right(self._lengths, math.floor(len(text) / bound))
        if low >= high:
            return None
        best = process.extractOne(text, self._texts[low:high], scorer=fuzz.ratio, score_cutoff=cutoff)
        if best is None:
            return None
        phrase_id, stage = self._labels[low + best[2]]
        return phrase_id, stage, round(float(best[1]), 1)


def _blanked(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with the given spans blanked out by a control character that is neither a letter nor a clause
    break (same length, so offsets stay valid)."""
    if not spans:
        return text
    parts: list[str] = []
    position = 0
    for start, end in sorted(spans):
        parts += (text[position:start], "\x01" * (end - start))
        position = end
    parts.append(text[position:])
    return "".join(parts)


def _uncued_stretches(text: str, cover: bytes) -> list[int]:
    """Start offsets of the stretches no stage cue covers that have substance (each is an answer act).

    `text` has its no-act words blanked. Stretches are cut at clause breaks and at stage cues (cover 2);
    blanked no-act words do not cut a stretch and do not count ("储蓄卡[数字x]-[数字x]天左右" is one).
    """
    starts: list[int] = []
    position = 0
    for clause in [*_CLAUSE_BREAK.finditer(text), None]:
        end = clause.start() if clause is not None else len(text)
        if end > position:
            needed = _SUBSTANCE_BESIDE_CUE if 2 in cover[position:end] else _SUBSTANCE_ALONE
            for run in _FREE_RUN.finditer(cover, position, end):
                if len(_LETTERS.findall(text, run.start(), run.end())) >= needed:
                    starts.append(run.start())
        position = clause.end() if clause is not None else len(text)
    return starts
