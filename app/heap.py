"""Garbage-collector settings for a serving process: `serving_gc()`, entered by the app's lifespan.

Measured under `bench/ws_bench.py` (1,000 busy connections, CPython 3.11 defaults of 700/10/10),
the cyclic collector took about a quarter of the event loop's time. A turn's objects live until its
commit is durable (milliseconds, a second when saturated), so young collections every 700
allocations find them alive and promote them; the older generations then fill quickly and full
collections ran every few seconds, each walking ~400k objects for 130-200 ms, a pause every
connection waits through. ~150k of those objects are start-up state (flows, phrasings, NLU
tables, the engine, the app) that lives as long as the process.

So: freeze what start-up built (full collections skip it), and collect the young generation every
10,000 allocations instead of 700, so most of a turn's objects are freed by reference counting
before any collection sees them. Reference cycles are still collected: young ones at the next
young collection, older ones by the middle collections (one every 10 young ones) and the full
ones (one every 10 middle ones), which still run, only less often.

An earlier setting (50,000 young; a middle collection every 20 young ones) starved the full
collections: a connection's objects live through several young collections, die in the oldest
generation and waited there for a full collection that came once per 10 million allocations, so
memory grew with every connection (issue 16: RSS 173 → 784 MB over 60,000 connect/close cycles).
`bench/churn_bench.py --abrupt`, 30,000 cycles, same run: 50,000/20/10 went 175 → 203 MB and still
climbing; 10,000/10/10 levels off at 184 MB (CPython's 700/10/10: 180 MB).
`HUASHU_GC_THRESHOLDS` (e.g. `[700,10,10]`) overrides the setting.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

YOUNG_THRESHOLD: Final = 10_000  # allocations between young collections (CPython default 700)
OLDER_THRESHOLDS: Final = (10, 10)  # young collections per middle one, middle ones per full one (the defaults)


@contextmanager
def serving_gc(thresholds: tuple[int, int, int] | None = None) -> Iterator[None]:
    """Freeze the objects alive now and set the collection thresholds (`HUASHU_GC_THRESHOLDS` or the
    defaults above); undo both on exit.

    No `gc.collect()` first: it would cost ~70 ms per app start (tests start many), and the few
    cycles it would free at start-up are only kept until `gc.unfreeze()` at shutdown.
    """
    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*(thresholds or (YOUNG_THRESHOLD, *OLDER_THRESHOLDS)))
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()
