"""The hand-labelled stage gold standard and the tagger's agreement with it (`huashu qa tagger-eval`).

A gold file holds one JSON object per labelled agent turn and never the text:

    {"session": "<JDDC session id>", "turn": N, "split": "dev"|"test", "stage": "...", "stages": [...]}

`turn` indexes the transcript's turns exactly as `app/qa/jddc.py` produces them. The texts are looked up in
the JDDC file at run time. Every defect (a broken line, an unknown session, a turn out of range or not an
agent's) is collected as a `GoldDefect` with file and line, so one run lists all of them.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from app.config import PROJECT_ROOT
from app.content.model import STAGES
from app.engine.tagger import OTHER, StageTagger
from app.qa.jddc import read_jddc
from app.transcripts import Transcript

SPLITS: Final = ("dev", "test")
SHARED_DATA_ENV: Final = "HUASHU_SHARED_DATA"
LABELS: Final = (*STAGES, OTHER)


@dataclass(frozen=True, slots=True)
class GoldTurn:
    session: str
    turn: int
    split: str
    stage: str  # the primary act
    stages: tuple[str, ...]  # every act, in order of appearance
    line: int  # in the gold file, for error messages


@dataclass(frozen=True, slots=True)
class GoldDefect:
    file: str
    line: int | None
    message: str

    def describe(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line is not None else f"{self.file}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "message": self.message}


class GoldErrors(Exception):
    """The gold file or the data file is missing or broken; `defects` lists every problem found."""

    def __init__(self, defects: Sequence[GoldDefect]) -> None:
        super().__init__("; ".join(d.describe() for d in defects))
        self.defects = tuple(defects)


def load_gold(path: Path) -> list[GoldTurn]:
    """The labelled turns of a gold file (raises `GoldErrors` listing every malformed line)."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GoldErrors([GoldDefect(name, None, "no such gold file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldErrors([GoldDefect(name, None, f"cannot read the gold file: {exc}")]) from None
    turns: list[GoldTurn] = []
    defects: list[GoldDefect] = []
    seen: dict[tuple[str, int], int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            item = _gold_turn(json.loads(raw), number)
        except (json.JSONDecodeError, ValueError) as exc:
            defects.append(GoldDefect(name, number, str(exc)))
            continue
        key = (item.session, item.turn)
        if key in seen:
            defects.append(GoldDefect(name, number, f"session {item.session} turn {item.turn} is already labelled on line {seen[key]}"))
            continue
        seen[key] = number
        turns.append(item)
    if not turns and not defects:
        defects.append(GoldDefect(name, None, "the gold file has no labelled turns"))
    if defects:
        raise GoldErrors(defects)
    return turns


def _gold_turn(data: Any, line: int) -> GoldTurn:
    if not isinstance(data, dict):
        raise ValueError("a gold line must be a JSON object")
    missing = [k for k in ("session", "turn", "split", "stage", "stages") if k not in data]
    if missing:
        raise ValueError(f"missing field(s): {', '.join(missing)}")
    session, turn, split, stage, stages = (data[k] for k in ("session", "turn", "split", "stage", "stages"))
    if not isinstance(session, str) or not session:
        raise ValueError("`session` must be a non-empty string")
    if not isinstance(turn, int) or isinstance(turn, bool) or turn < 0:
        raise ValueError(f"`turn` must be a turn index (an integer ≥ 0), got {turn!r}")
    if split not in SPLITS:
        raise ValueError(f"`split` must be one of {', '.join(SPLITS)}, got {split!r}")
    if not isinstance(stages, list) or not stages or any(s not in LABELS for s in stages):
        raise ValueError(f"`stages` must be a non-empty list of: {', '.join(LABELS)}; got {stages!r}")
    if stage not in stages:
        raise ValueError(f"`stage` {stage!r} must be one of the turn's `stages` {stages!r}")
    return GoldTurn(session, turn, split, stage, tuple(stages), line)


def default_data() -> Path | None:
    """The JDDC sample where the tests look for it: `$HUASHU_SHARED_DATA/jddc/chat_sample.tsv`, else
    `../shared/data/jddc/chat_sample.tsv` next to the repository; None when neither exists."""
    roots = [Path(os.environ[SHARED_DATA_ENV])] if os.environ.get(SHARED_DATA_ENV) else []
    roots.append(PROJECT_ROOT.parent / "shared" / "data")
    return next((r / "jddc" / "chat_sample.tsv" for r in roots if (r / "jddc" / "chat_sample.tsv").is_file()), None)


def read_texts(gold: Iterable[GoldTurn], data: Path, gold_file: str) -> dict[tuple[str, int], str]:
    """Each labelled turn's text from the JDDC file (raises `GoldErrors` for a missing file, an unknown
    session, a turn index out of range or a turn that is not the agent's)."""
    wanted = list(gold)
    sessions = {g.session for g in wanted}
    transcripts: dict[str, Transcript] = {}
    try:
        with data.open(encoding="utf-8") as handle:
            # Malformed rows are skipped: a labelled turn they would have held is then reported as missing.
            for item in read_jddc(handle):
                if isinstance(item, Transcript) and item.id in sessions:
                    transcripts[item.id] = item
    except FileNotFoundError:
        raise GoldErrors([GoldDefect(str(data), None, "no such JDDC data file (give --data PATH)")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldErrors([GoldDefect(str(data), None, f"cannot read the JDDC data file: {exc}")]) from None
    texts: dict[tuple[str, int], str] = {}
    defects: list[GoldDefect] = []
    for g in wanted:
        transcript = transcripts.get(g.session)
        if transcript is None:
            defects.append(GoldDefect(gold_file, g.line, f"unknown session {g.session} (not in {data})"))
        elif g.turn >= len(transcript.turns):
            defects.append(
                GoldDefect(gold_file, g.line, f"session {g.session} has {len(transcript.turns)} turns; turn {g.turn} is out of range")
            )
        elif transcript.turns[g.turn].role != "agent":
            defects.append(
                GoldDefect(gold_file, g.line, f"session {g.session} turn {g.turn} is a {transcript.turns[g.turn].role} turn, not an agent turn")
            )
        else:
            texts[(g.session, g.turn)] = transcript.turns[g.turn].text
    if defects:
        raise GoldErrors(defects)
    return texts


@dataclass(frozen=True, slots=True)
class StageScore:
    stage: str
    support: int  # gold turns with this primary stage
    predicted: int  # turns the tagger gave this primary stage
    correct: int

    @property
    def precision(self) -> float | None:
        return self.correct / self.predicted if self.predicted else None

    @property
    def recall(self) -> float | None:
        return self.correct / self.support if self.support else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p and r else (0.0 if p is not None and r is not None else None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "support": self.support,
            "predicted": self.predicted,
            "correct": self.correct,
            "precision": _round(self.precision),
            "recall": _round(self.recall),
            "f1": _round(self.f1),
        }


@dataclass(frozen=True, slots=True)
class Agreement:
    split: str
    turns: int
    primary_correct: int
    stages_overlap: float  # mean Jaccard overlap of the `stages` sets
    stages_exact: int  # turns whose `stages` set equals the gold set
    per_stage: tuple[StageScore, ...]
    confusions: Mapping[tuple[str, str], int] = field(default_factory=dict)  # (gold, tagged) → count, misses only

    @property
    def accuracy(self) -> float:
        return self.primary_correct / self.turns if self.turns else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "split": self.split,
            "turns": self.turns,
            "primary": {"correct": self.primary_correct, "accuracy": round(self.accuracy, 4)},
            "stages": {
                "mean_overlap": round(self.stages_overlap, 4),
                "exact": self.stages_exact,
                "exact_rate": round(self.stages_exact / self.turns, 4) if self.turns else 0.0,
            },
            "per_stage": [s.to_dict() for s in self.per_stage],
            "confusions": [
                {"gold": gold, "tagged": tagged, "count": n}
                for (gold, tagged), n in sorted(self.confusions.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
        }


def evaluate(tagger: StageTagger, gold: Sequence[GoldTurn], texts: Mapping[tuple[str, int], str], split: str) -> Agreement:
    """The tagger's agreement with the gold turns of `split` ("dev", "test" or "all")."""
    chosen = [g for g in gold if split == "all" or g.split == split]
    support: Counter[str] = Counter()
    predicted: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    confusions: Counter[tuple[str, str]] = Counter()
    overlap = 0.0
    exact = 0
    for g in chosen:
        tag = tagger.tag(texts[(g.session, g.turn)])
        tagged_stages = set(tag.stages) or {OTHER}
        support[g.stage] += 1
        predicted[tag.stage] += 1
        if tag.stage == g.stage:
            correct[g.stage] += 1
        else:
            confusions[(g.stage, tag.stage)] += 1
        gold_stages = set(g.stages)
        overlap += len(gold_stages & tagged_stages) / len(gold_stages | tagged_stages)
        exact += gold_stages == tagged_stages
    per_stage = tuple(
        StageScore(stage, support[stage], predicted[stage], correct[stage])
        for stage in LABELS
        if support[stage] or predicted[stage]
    )
    return Agreement(
        split=split,
        turns=len(chosen),
        primary_correct=sum(correct.values()),
        stages_overlap=overlap / len(chosen) if chosen else 0.0,
        stages_exact=exact,
        per_stage=per_stage,
        confusions=dict(confusions),
    )


def render_agreement(agreement: Agreement) -> str:
    """The agreement as a plain-text table (what `huashu qa tagger-eval` prints without --json)."""
    a = agreement
    lines = [
        f"split {a.split}: {a.turns} labelled agent turn(s)",
        f"primary stage agreement: {a.primary_correct}/{a.turns} = {_percent(a.accuracy)}",
        f"stages (all acts): mean set overlap {_percent(a.stages_overlap)}, "
        f"exact set {a.stages_exact}/{a.turns} = {_percent(a.stages_exact / a.turns if a.turns else 0.0)}",
        "",
        f"{'stage':<12} {'gold':>5} {'tagged':>6} {'right':>5} {'precision':>9} {'recall':>6} {'F1':>5}",
    ]
    for s in a.per_stage:
        lines.append(
            f"{s.stage:<12} {s.support:>5} {s.predicted:>6} {s.correct:>5} "
            f"{_percent(s.precision):>9} {_percent(s.recall):>6} {_percent(s.f1):>5}"
        )
    if a.confusions:
        lines += ["", "misses (gold → tagged):"]
        for (gold, tagged), n in sorted(a.confusions.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  {gold} → {tagged}: {n}")
    return "\n".join(lines) + "\n"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"
