"""The serving process's collector settings are undone when the app stops."""

from __future__ import annotations

import gc

from app.heap import YOUNG_THRESHOLD, serving_gc


def test_serving_gc_freezes_and_raises_thresholds_then_restores_them() -> None:
    before = gc.get_threshold()
    with serving_gc():
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
