"""Building the engine from settings: content loading and NLU start-up happen here, once per process."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from app.config import Settings
from app.content.loader import load_content
from app.engine.step import Engine
from app.nlu.analyzer import get_analyzer


@lru_cache(maxsize=4)
def _engine(flows_dir: Path, scripts_dir: Path, default_flow: str) -> Engine:
    return Engine(load_content(flows_dir, scripts_dir), get_analyzer(scripts_dir), default_flow=default_flow)


def load_engine(settings: Settings) -> Engine:
    """A fresh engine read from the pack's folders now (a reload), sharing nothing with earlier ones."""
    from app.nlu.analyzer import Analyzer

    scripts_dir = settings.scripts_dir.resolve()
    return Engine(load_content(settings.flows_dir.resolve(), scripts_dir), Analyzer.load(scripts_dir),
                  default_flow=settings.default_flow)


def build_engine(settings: Settings | None = None) -> Engine:
    """The process-wide engine for these content folders (raises `ContentErrors` if they are broken)."""
    settings = settings or Settings()
    return _engine(settings.flows_dir.resolve(), settings.scripts_dir.resolve(), settings.default_flow)
