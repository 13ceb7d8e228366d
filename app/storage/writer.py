"""Group commit: one writer thread turns many concurrent writes into few durable commits.

A durable commit costs an fsync (SQLite `synchronous=FULL`) or a WAL flush (PostgreSQL),
which dominates the cost of a chat turn. Coroutines hand their write to `submit`; the writer
thread takes everything waiting (up to `MAX_BATCH`), runs each write inside its own SAVEPOINT
of one transaction, commits once, and only then resolves the callers' futures on their loops.

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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from app.errors import StorageError
from app.storage.store import StoreStats

MAX_BATCH = 256  # bounds one transaction's size and the latency the last write in it waits for

T = TypeVar("T")
Translate = Callable[[BaseException, str], BaseException]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Job:
    what: str  # e.g. "append to conv-1", for error messages
    fn: Callable[[Connection], Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


_STOP = object()  # queued by stop(); everything queued before it is still written


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

        Cancelling the awaiting task does not withdraw the write: it may still commit.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._lock:
            if self._closed:
                raise StorageError("store is closed")
            self._queue.put(_Job(what, fn, future, loop))
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
        outcomes: list[tuple[_Job, Any, BaseException | None]] = []
        try:
            with self._engine.connect() as conn, conn.begin():
                for job in batch:
                    try:
                        with conn.begin_nested():
                            outcomes.append((job, job.fn(conn), None))
                    except Exception as exc:  # noqa: BLE001 - each caller gets its own failure
                        outcomes.append((job, None, self._translate(exc, job.what)))
            # Leaving conn.begin() committed: from here on every successful write is durable.
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
            self._stats.items += len(batch)
            self._stats.max_batch = max(self._stats.max_batch, len(batch))
        for job, value, error in outcomes:
            try:
                job.loop.call_soon_threadsafe(_resolve, job.future, value, error)
            except RuntimeError:
                # The caller's loop is gone; the write itself is committed (or failed) regardless.
                log.debug("loop closed before %s could be answered", job.what)


def _resolve(future: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if future.done():  # the caller was cancelled
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)
