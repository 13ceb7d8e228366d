"""Group commit: one writer thread turns many concurrent writes into few durable commits.

A durable commit costs an fsync (SQLite `synchronous=FULL`) or a WAL flush (PostgreSQL),
which dominates the cost of a chat turn. Coroutines hand their write to `submit`; the writer
thread takes everything waiting (up to `MAX_BATCH`), runs it in one transaction, commits once,
and only then resolves the callers' futures on their loops.

Writes of one kind can also share statements (`submit_grouped`): consecutive queued writes with
the same `Group` function run as one call, `group(conn, items)`, so a batch of 200 appends costs
a handful of statements instead of a thousand. The group reports each item's own failure (e.g. an
unknown conversation, a conditional append that lost) without writing anything for it.

A batch is first written without savepoints, since almost every batch succeeds whole (at low load
a batch is one append, and SAVEPOINT/RELEASE were a fifth of its statements). If any write raises
instead (a constraint, a trigger, a lost race), that transaction is rolled back and the batch is
written again with a savepoint around each run; a group that raises there is rolled back to its
savepoint and every item runs again alone, `group(conn, [item])` in its own savepoint.

* A write that raises rolls back to its savepoint and fails alone, with its own exception.
* If the commit itself fails, every write of the batch fails with `StorageError`.
* A crash after the commit and before the futures resolve loses nothing: the rows are in the
  database, and a resend with the same client id is answered as a duplicate.
* The event loop never blocks on the database: it only puts onto a queue and awaits a future.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from app.errors import StorageError
from app.storage.store import StoreStats

MAX_BATCH = 256  # bounds one transaction's size and the latency the last write in it waits for

T = TypeVar("T")
ItemT = TypeVar("ItemT")  # the item type of a group
Translate = Callable[[BaseException, str], BaseException]
# Runs several writes of one kind in one go; returns one outcome per item, in order: the item's
# result, or the exception it fails with (in which case nothing was written for it).
Group = Callable[[Connection, list[ItemT]], list[T | Exception]]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Job:
    what: str  # e.g. "append to conv-1", for error messages
    fn: Callable[[Connection], Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop
    group: Group[Any, Any] | None = None  # set by submit_grouped, with the item it takes
    item: Any = None


def _alone(group: Group[ItemT, T], item: ItemT) -> Callable[[Connection], T]:
    """The write of one grouped item on its own (in its own savepoint, like any write)."""

    def run(conn: Connection) -> T:
        [outcome] = group(conn, [item])
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return run


_Answer = tuple[asyncio.Future[Any], Any, BaseException | None]  # a caller's future and its outcome
_Outcome = tuple[_Job, Any, BaseException | None]  # a write, and its result or its own failure
_STOP = object()  # queued by stop(); everything queued before it is still written


class _Raised(Exception):
    """A write raised in a batch written without savepoints: roll back and write it with them."""


class GroupCommitWriter:
    """Owns the writer thread for one engine."""

    def __init__(
        self, engine: Engine, *, stats: StoreStats, translate: Translate, max_batch: int = MAX_BATCH
    ):
        self._engine = engine
        self._stats = stats
        self._translate = translate
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Job | object] = queue.SimpleQueue()
        self._lock = threading.Lock()  # makes "not closed, then enqueue" atomic against stop()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="huashu-store-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    async def submit(self, what: str, fn: Callable[[Connection], T]) -> T:
        """Run `fn(connection)` in the next group transaction; return its result once committed.

        `fn` may run twice (a batch in which any write raised is rolled back and written again),
        so it must do nothing outside the transaction it is given. Cancelling the awaiting task
        does not withdraw the write: it may still commit.
        """
        return await self._enqueue(what, fn, None, None)

    async def submit_grouped(self, what: str, group: Group[ItemT, T], item: ItemT) -> T:
        """Like `submit`, but runs together with the queued writes next to it that share `group`.

        `group` must be the same callable (equal bound methods count) for writes to be grouped;
        see the module docstring for how failures stay isolated (and why `group` may run several
        times for one item, like `fn` in `submit`).
        """
        return await self._enqueue(what, _alone(group, item), group, item)

    async def _enqueue(
        self, what: str, fn: Callable[[Connection], T], group: Group[Any, Any] | None, item: Any
    ) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._lock:
            if self._closed:
                raise StorageError("store is closed")
            self._queue.put(_Job(what, fn, future, loop, group, item))
        return await future

    async def stop(self) -> None:
        """Refuse new writes, write everything already queued, then end the thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(_STOP)
        if self._thread.is_alive():
            await asyncio.to_thread(self._thread.join)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            batch: list[_Job] = []
            item: _Job | object = first
            while True:
                if item is _STOP:
                    stopping = True
                    break
                assert isinstance(item, _Job)
                batch.append(item)
                if len(batch) >= self._max_batch:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._write(batch)

    def _write(self, batch: list[_Job]) -> None:
        outcomes: list[_Outcome] = []
        began = time.perf_counter()
        try:
            try:
                self._transaction(batch, outcomes, self._write_unguarded)
            except _Raised as raised:
                # Nothing of the batch is committed. Write it again with a savepoint around each run,
                # so every failure stays with its own callers.
                log.debug("a write of the batch raised (%s); writing it again with savepoints", raised.__cause__)
                outcomes.clear()
                self._transaction(batch, outcomes, self._write_guarded)
            # Leaving the transaction committed: from here on every successful write is durable.
        except Exception as exc:  # noqa: BLE001 - connection lost, commit refused, ...
            self._stats.failed_commits += 1
            log.warning("group commit of %d writes failed: %s", len(batch), exc)
            failed = StorageError(f"commit failed: {exc}")
            failed.__cause__ = exc
            done = {id(job) for job, _, _ in outcomes}
            outcomes = [(job, None, err or failed) for job, _, err in outcomes]
            outcomes += [(job, None, failed) for job in batch if id(job) not in done]
        else:
            self._stats.commits += 1
            self._stats.commit_seconds += time.perf_counter() - began
            self._stats.items += len(batch)
            self._stats.max_batch = max(self._stats.max_batch, len(batch))
        # One wake-up per event loop for the whole batch (not one per write), answered in queue order.
        answers: dict[asyncio.AbstractEventLoop, list[_Answer]] = {}
        for job, value, error in outcomes:
            answers.setdefault(job.loop, []).append((job.future, value, error))
        for loop, batch_answers in answers.items():
            try:
                loop.call_soon_threadsafe(_resolve, batch_answers)
            except RuntimeError:
                # The callers' loop is gone; the writes themselves are committed (or failed) regardless.
                log.debug("loop closed before %d writes could be answered", len(batch_answers))

    def _transaction(
        self,
        batch: list[_Job],
        outcomes: list[_Outcome],
        write: Callable[[Connection, list[list[_Job]], list[_Outcome]], None],
    ) -> None:
        with self._engine.connect() as conn, conn.begin():
            write(conn, _runs(batch), outcomes)

    def _write_unguarded(self, conn: Connection, runs: list[list[_Job]], outcomes: list[_Outcome]) -> None:
        """Every run without a savepoint (two statements fewer each): the usual batch, in which
        nothing raises. A group's items can still fail alone, since a group writes nothing for
        an item it reports as failed; anything raised aborts the whole attempt with `_Raised`."""
        try:
            for run in runs:
                group = run[0].group
                if group is None:
                    [job] = run
                    outcomes.append((job, job.fn(conn), None))
                else:
                    outcomes += self._group_outcomes(run, group(conn, [job.item for job in run]))
        except Exception as exc:  # noqa: BLE001 - written again, run by run, by _write_guarded
            raise _Raised from exc

    def _write_guarded(self, conn: Connection, runs: list[list[_Job]], outcomes: list[_Outcome]) -> None:
        """Every run in its own savepoint; a group that raises is written again item by item."""
        for run in runs:
            if len(run) > 1 and self._write_together(conn, run, outcomes):
                continue
            for job in run:
                try:
                    with conn.begin_nested():
                        outcomes.append((job, job.fn(conn), None))
                except Exception as exc:  # noqa: BLE001 - each caller gets its own failure
                    outcomes.append((job, None, self._translate(exc, job.what)))

    def _write_together(self, conn: Connection, run: list[_Job], outcomes: list[_Outcome]) -> bool:
        """One group call for the run, in one savepoint; False (nothing written) if it raised."""
        group = run[0].group
        assert group is not None
        try:
            with conn.begin_nested():
                results = group(conn, [job.item for job in run])
                checked = self._group_outcomes(run, results)
        except Exception as exc:  # noqa: BLE001 - retried item by item, which reports it per caller
            log.debug("group of %d writes failed (%s); writing them one at a time", len(run), exc)
            return False
        outcomes += checked
        return True

    def _group_outcomes(self, run: list[_Job], results: list[Any]) -> list[_Outcome]:
        if len(results) != len(run):
            raise RuntimeError(f"group returned {len(results)} outcomes for {len(run)} writes")
        return [
            (job, None, self._translate(result, job.what)) if isinstance(result, Exception) else (job, result, None)
            for job, result in zip(run, results, strict=True)
        ]


def _runs(batch: list[_Job]) -> list[list[_Job]]:
    """The batch cut into runs of consecutive jobs that share a group (ungrouped jobs run alone)."""
    runs: list[list[_Job]] = []
    for job in batch:
        if runs and job.group is not None and job.group == runs[-1][0].group:
            runs[-1].append(job)
        else:
            runs.append([job])
    return runs


def _resolve(answers: list[_Answer]) -> None:
    for future, value, error in answers:
        if future.done():  # the caller was cancelled
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)
