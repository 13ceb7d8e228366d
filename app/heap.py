"""Garbage-collector settings for a serving process: `serving_gc()`, entered by the app's lifespan.

Measured under `bench/ws_bench.py` (1,000 busy connections, CPython 3.11 defaults of 700/10/10),
the cyclic collector took about a quarter of the event loop's time. A turn's objects live until its
commit is durable (milliseconds, a second when saturated), so young collections every 700
allocations find them alive and promote them; the older generations then fill quickly and full
collections ran every few seconds, each walking ~400k objects for 130-200 ms, a pause every
connection waits through. ~150k of those objects are start-up state (flows, phrasings, NLU
tables, the engine, the app) that lives as long as the process.

So: freeze what start-up built (full collections skip it), and collect the young generation every
50,000 allocations instead of 700, so most of a turn's objects are freed by reference counting
before any collection sees them. Reference cycles are still collected: young ones at the next
young collection, older ones by the middle collections (one every 20 young ones) and the full
ones, which still run, only far less often.

Measured (20,000 saturated turns): collector time fell from ~360 µs to ~30 µs a turn; instead of
a ~200 ms full collection every few seconds, a ~9 ms young collection every few hundred turns,
and no full collection during the run.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

YOUNG_THRESHOLD: Final = 50_000  # allocations between young collections (CPython default 700)
OLDER_THRESHOLDS: Final = (20, 10)  # young collections per middle one, middle ones per full one


@contextmanager
def serving_gc() -> Iterator[None]:
    """Freeze the objects alive now and raise the collection thresholds; undo both on exit.

    No `gc.collect()` first: it would cost ~70 ms per app start (tests start many), and the few
    cycles it would free at start-up are only kept until `gc.unfreeze()` at shutdown.
    """
    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()
