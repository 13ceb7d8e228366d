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


def test_garbage_that_reaches_the_oldest_generation_is_collected_while_serving() -> None:
    # A connection's objects outlive several young collections, then die in the oldest generation
    # (issue 16 item 1): full collections must still come, or memory grows with every connection.
    import collections

    with serving_gc():
        before = gc.get_stats()[2]["collections"]
        alive: collections.deque[dict[str, object]] = collections.deque()
        for _ in range(1_500_000):
            first: dict[str, object] = {}
            first["other"] = {"first": first}  # a reference cycle, as a closed socket leaves them
            alive.append(first)
            if len(alive) > 2000:
                alive.popleft()
        full_collections = gc.get_stats()[2]["collections"] - before
    assert full_collections >= 1


def test_the_thresholds_can_be_set_for_the_serving_process() -> None:
    with serving_gc((700, 10, 10)):
        assert gc.get_threshold() == (700, 10, 10)
