"""Assessing many transcripts: in this process, or in worker processes that each build their own engine once.

Results come back in input order whatever the number of workers. Work is sent in chunks, with a bounded
number of chunks in flight so a large batch is streamed rather than held twice in memory. A transcript
that crashes the assessor becomes an `Assessment` with `error` set; the batch goes on.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from types import TracebackType
from typing import Final, Self

from app.qa.assessor import Assessor
from app.qa.model import Assessment
from app.qa.sources import Item

DEFAULT_CHUNK: Final = 50
_IN_FLIGHT_PER_WORKER: Final = 3

Progress = Callable[[int], None]  # called with how many transcripts just finished


@dataclass(frozen=True, slots=True)
class Setup:
    """What a worker process needs to build the same assessor as the parent (paths, not objects)."""

    flows_dir: Path
    scripts_dir: Path
    rules_file: Path
    default_flow: str = "default"
    flow: str | None = None

    def build(self) -> Assessor:
        from app.config import Settings
        from app.qa.rules import load_rules
        from app.runtime import build_engine

        settings = Settings(flows_dir=self.flows_dir, scripts_dir=self.scripts_dir, default_flow=self.default_flow)
        return Assessor(build_engine(settings), load_rules(self.rules_file), flow=self.flow)


def assess_item(assessor: Assessor, item: Item) -> Assessment:
    """One item, never raising: an unexpected failure is reported on the transcript."""
    try:
        return assessor.assess(item.transcript, source=item.source)
    except Exception as exc:  # noqa: BLE001 - one broken transcript must not end a batch of thousands
        t = item.transcript
        return Assessment(
            t.id, t.channel, t.agent, t.flow, None, error=f"internal_error: {type(exc).__name__}: {exc}",
            versions=assessor.versions, source=item.source,
        )


class WorkerPool:
    """Worker processes (spawned: no inherited threads or locks, same on every platform), each with its assessor."""

    def __init__(self, setup: Setup, workers: int, *, chunk: int = DEFAULT_CHUNK) -> None:
        self.workers = workers
        self.chunk = chunk
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(setup,),
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._pool.shutdown(cancel_futures=True)

    def warm(self) -> None:
        """Start every worker and wait until each has built its engine (benchmarks time the steady state)."""
        for future in [self._pool.submit(_assess_chunk, []) for _ in range(self.workers)]:
            future.result()

    def assess(self, items: Iterable[Item], progress: Progress | None = None) -> Iterator[Assessment]:
        pending: deque[Future[list[Assessment]]] = deque()
        source = iter(items)
        limit = self.workers * _IN_FLIGHT_PER_WORKER
        while True:
            while len(pending) < limit and (batch := list(islice(source, self.chunk))):
                pending.append(self._pool.submit(_assess_chunk, batch))
            if not pending:
                return
            results = pending.popleft().result()
            if progress:
                progress(len(results))
            yield from results


def run_batch(
    items: Iterable[Item],
    setup: Setup,
    *,
    workers: int = 1,
    chunk: int = DEFAULT_CHUNK,
    progress: Progress | None = None,
    assessor: Assessor | None = None,
) -> Iterator[Assessment]:
    """Assess `items` in order; `workers > 1` uses that many processes. `assessor` saves building one here."""
    if workers <= 1:
        local = assessor or setup.build()
        for item in items:
            result = assess_item(local, item)
            if progress:
                progress(1)
            yield result
        return
    with WorkerPool(setup, workers, chunk=chunk) as pool:
        yield from pool.assess(items, progress)


_worker: Assessor | None = None


def _start_worker(setup: Setup) -> None:
    global _worker
    _worker = setup.build()


def _assess_chunk(batch: Sequence[Item]) -> list[Assessment]:
    assert _worker is not None, "worker not initialised"
    return [assess_item(_worker, item) for item in batch]
