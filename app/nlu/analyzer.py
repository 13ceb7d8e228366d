"""The NLU entry point: one `Analyzer` turns a customer message into an `Analysis`.

`Analyzer.load(scripts_dir)` builds every part from a pack's data: the intent model is fit on the pack's
intent examples at load (about 2 s for the default pack, imports included; under 1 s when the model cache
already holds the fit, `app/nlu/model_cache.py`), so a new intent needs no build step;
`analyze` is then pure and deterministic: the same text and `today` give the same `Analysis`, and
no clock, randomness or I/O is involved. `get_analyzer(scripts_dir)` shares one instance per pack and process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from datetime import date
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from app.config import PROJECT_ROOT
from app.nlu.analysis import Analysis
from app.nlu.confirmation import ConfirmationDetector
from app.nlu.emotion import EmotionDetector
from app.nlu.handoff import HandoffDetector
from app.nlu.intent import LOGISTIC_WEIGHT, IntentClassifier, IntentModel, extract_features
from app.nlu.lexicon import LexiconSet
from app.nlu.model_cache import ModelCache
from app.nlu.normalize import Normalizer
from app.nlu.question import QuestionDetector
from app.nlu.resources import DataError, PackData
from app.nlu.segment import DOMAIN_DICT, Segmenter, build_tokenizer
from app.nlu.slots import SlotExtractor

DEFAULT_SCRIPTS_DIR: Final = PROJECT_ROOT / "scripts_zh"  # the default (retail) pack
DEFAULT_CACHE_SIZE: Final = 8192  # QA replay repeats messages ("好的", "谢谢") across transcripts
# Slot presence is a training feature; which day "today" is does not change presence.
_TRAINING_DAY: Final = date(2026, 1, 15)


class Analyzer:
    """Normalise → slots → confirmation, emotion, hand-off → intent."""

    def __init__(self, normalizer: Normalizer, segmenter: Segmenter, slots: SlotExtractor,
                 confirmation: ConfirmationDetector, emotion: EmotionDetector, handoff: HandoffDetector,
                 intents: IntentClassifier, question: QuestionDetector | None = None, *,
                 cache_size: int = DEFAULT_CACHE_SIZE) -> None:
        self.normalizer = normalizer
        self.segmenter = segmenter
        self.slots = slots
        self.confirmation = confirmation
        self.emotion = emotion
        self.handoff = handoff
        self.intents = intents
        self.question = question or QuestionDetector({})
        # One trie walk per message serves the intent, emotion and hand-off lexicons.
        # (Confirmation scans on its own: it only looks when the message starts like an answer.)
        self._lexicons = LexiconSet([intents.phrases, emotion.phrases, handoff.phrases])
        # Results are immutable, so a bounded cache keyed on (text, today) cannot change answers.
        self._cached = lru_cache(maxsize=cache_size)(self._analyze) if cache_size else self._analyze

    @classmethod
    def load(cls, scripts_dir: Path = DEFAULT_SCRIPTS_DIR, *, cache_size: int = DEFAULT_CACHE_SIZE,
             model_cache: ModelCache | None = None) -> Analyzer:
        """Build from a pack's scripts folder: its declared intents and their examples, and `nlu/`.

        The fitted intent model is kept in `model_cache` (default: `HUASHU_MODEL_CACHE`, see
        `app/nlu/model_cache.py`). Raises `ContentErrors` for broken intent files and `DataError` for
        other broken NLU data.
        """
        from app.content.loader import load_intents  # content imports nlu.analysis: import on use

        intents = load_intents(scripts_dir)
        examples = ((text, spec.name) for spec in intents.values() for text in spec.examples)
        return cls.build(list(intents), examples, PackData(scripts_dir / "nlu"), cache_size=cache_size,
                         model_cache=model_cache)

    @classmethod
    def build(cls, intents: Sequence[str], examples: Iterable[tuple[str, str]], data: PackData, *,
              cache_size: int = DEFAULT_CACHE_SIZE, model_cache: ModelCache | None = None) -> Analyzer:
        """Fit the intent model on (text, intent) examples (or read it from `model_cache`); the other
        parts read `data`."""
        normalizer = Normalizer()
        segmenter = Segmenter(build_tokenizer(data.read_text(DOMAIN_DICT)))
        slots = SlotExtractor(data.read_yaml("slots.yaml"))
        model = (model_cache or ModelCache.from_environment()).fit(_samples(examples, normalizer, slots), intents)
        classifier = IntentClassifier(model, data.read_yaml("intent_lexicon.yaml"), _openers(data))
        confirmation = ConfirmationDetector(data.read_yaml("confirmation.yaml"))
        emotion = EmotionDetector(data.read_yaml("emotion_lexicon.yaml"))
        handoff = HandoffDetector(data.read_yaml("handoff.yaml"))
        question = QuestionDetector(data.read_yaml("question.yaml"))
        return cls(normalizer, segmenter, slots, confirmation, emotion, handoff, classifier, question,
                   cache_size=cache_size)

    def refit(self, examples: Iterable[tuple[str, str]], *, cache_size: int = 0) -> Analyzer:
        """A copy whose intent model is fit on other (text, intent) examples (cross-validation);
        every other part, the cue lexicon included, is shared."""
        model = IntentModel.fit(_samples(examples, self.normalizer, self.slots), self.intents.intents,
                               logistic_weight=LOGISTIC_WEIGHT)
        classifier = IntentClassifier(model, self.intents.lexicon, self.intents.openers)
        return Analyzer(self.normalizer, self.segmenter, self.slots, self.confirmation, self.emotion, self.handoff,
                        classifier, self.question, cache_size=cache_size)

    def analyze(self, text: str, *, today: date) -> Analysis:
        """Understand one customer message; `today` resolves relative dates such as 昨天."""
        return self._cached(text, today)

    def describe(self, text: str, *, today: date) -> dict[str, Any]:
        """The JSON shape of `huashu analyze` and `/api/analyze`: the analysis and the message's words."""
        analysis = self.analyze(text, today=today)
        return analysis.to_dict(self.segmenter.segment(analysis.normalized))

    def _analyze(self, text: str, today: date) -> Analysis:
        normalized = self.normalizer(text)
        slots = self.slots.extract(normalized, today)
        cue_matches, emotion_matches, handoff_matches = self._lexicons.find(normalized)
        confirmation = self.confirmation.detect(normalized)
        emotion = self.emotion.judge(normalized, emotion_matches)
        handoff = self.handoff.judge(normalized, handoff_matches)
        signals: dict[str, Any] = {"emotion": emotion.label, "handoff": handoff.requested,
                                   "handoff_declined": handoff.declined}
        result = None
        body = self.intents.request_part(normalized)
        if body and body != normalized:  # "你好 请问能上门安装吗": the request decides, not the greeting
            result = self.intents.classify(body, extract_features(body, slots), **signals)
            if result.intent == "other":
                result = None  # "你好 嗯" is still a greeting
        if result is None:
            result = self.intents.classify(
                normalized, extract_features(normalized, slots),
                acknowledgement=confirmation.answer if confirmation.bare else None, cue_matches=cue_matches,
                **signals,
            )
        return Analysis(
            text=text, normalized=normalized, intent=result.intent,
            confidence=result.confidence, alternatives=result.alternatives, slots=MappingProxyType(slots),
            confirmation=confirmation.answer, emotion=emotion.label, emotion_score=emotion.score,
            handoff=handoff.requested, question=self.question.is_question(normalized),
        )


def _openers(data: PackData) -> list[str]:
    openers = data.read_yaml("openers.yaml").get("openers") or []
    if not isinstance(openers, list):
        raise DataError("openers.yaml: `openers` must be a list of words")
    return openers


def _samples(examples: Iterable[tuple[str, str]], normalizer: Normalizer,
             slots: SlotExtractor) -> list[tuple[frozenset[str], str]]:
    samples = []
    for text, intent in examples:
        normalized = normalizer(text)
        samples.append((frozenset(extract_features(normalized, slots.extract(normalized, _TRAINING_DAY))), intent))
    return samples


_lock = threading.Lock()
_shared: dict[Path, Analyzer] = {}


def get_analyzer(scripts_dir: Path = DEFAULT_SCRIPTS_DIR) -> Analyzer:
    """The process-wide analyzer of a pack's scripts folder, built on first use (thread-safe)."""
    key = scripts_dir.resolve()
    analyzer = _shared.get(key)
    if analyzer is None:
        with _lock:
            analyzer = _shared.get(key)
            if analyzer is None:
                analyzer = _shared[key] = Analyzer.load(key)
    return analyzer
