"""NLU fixtures: the analyzer and its parts, built once per session from the default pack."""

from __future__ import annotations

import pytest

from app.nlu.analyzer import Analyzer
from app.nlu.confirmation import ConfirmationDetector
from app.nlu.emotion import EmotionDetector
from app.nlu.handoff import HandoffDetector
from app.nlu.normalize import Normalizer
from app.nlu.segment import Segmenter
from app.nlu.slots import SlotExtractor
from tests.nlu.support import PACK_DATA


@pytest.fixture(scope="session")
def analyzer() -> Analyzer:
    """An uncached analyzer, so every test exercises the full pipeline."""
    return Analyzer.load(cache_size=0)


@pytest.fixture(scope="session")
def normalizer(analyzer: Analyzer) -> Normalizer:
    return analyzer.normalizer


@pytest.fixture(scope="session")
def segmenter(analyzer: Analyzer) -> Segmenter:
    return analyzer.segmenter


@pytest.fixture(scope="session")
def slots() -> SlotExtractor:
    return SlotExtractor(PACK_DATA.read_yaml("slots.yaml"))


@pytest.fixture(scope="session")
def confirmation() -> ConfirmationDetector:
    return ConfirmationDetector(PACK_DATA.read_yaml("confirmation.yaml"))


@pytest.fixture(scope="session")
def emotion() -> EmotionDetector:
    return EmotionDetector(PACK_DATA.read_yaml("emotion_lexicon.yaml"))


@pytest.fixture(scope="session")
def handoff() -> HandoffDetector:
    return HandoffDetector(PACK_DATA.read_yaml("handoff.yaml"))
