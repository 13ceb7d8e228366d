"""SQLite WAL checkpoints in their own thread, off the commit path.

In WAL mode a commit appends pages to the `-wal` file; a checkpoint copies them back into the
database file (and fsyncs it) so the WAL can start over. By default SQLite runs that checkpoint
inside whichever commit pushes the WAL past 1,000 pages: every few hundred turns, one turn's
commit also copied megabytes and waited for a second fsync. Measured in-process at the paced
WebSocket bench's load (1,000 conversations, 50 turns/s), those commits took 20-155 ms and made
most of the latency tail: p99 18.3 ms and max 161 ms with them, 14.3 and 22 ms with this thread.

So the store's writer connection only checkpoints as a safety net (`WRITER_AUTOCHECKPOINT_PAGES`
in `database.py`, should this thread ever stall), and `WalCheckpointer` runs a PASSIVE checkpoint
every `interval_s` on a connection of its own: PASSIVE never waits for readers or the writer
(what it cannot copy now, it copies next time), and SQLite lets the writer keep appending meanwhile.
"""

from __future__ import annotations

import logging
import threading
from typing import Final

from sqlalchemy import Engine

from app.storage.store import StoreStats

CHECKPOINT_INTERVAL_S: Final = 0.5  # bounds the WAL to about half a second of writes
log = logging.getLogger(__name__)


class WalCheckpointer:
    """Runs `PRAGMA wal_checkpoint(PASSIVE)` every `interval_s` until stopped."""

    def __init__(self, engine: Engine, *, stats: StoreStats, interval_s: float = CHECKPOINT_INTERVAL_S) -> None:
        self._engine = engine
        self._stats = stats
        self._interval_s = interval_s
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="huashu-wal-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Blocks until a checkpoint in progress has finished."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stopping.wait(self._interval_s):
            try:
                self.checkpoint()
            except Exception as exc:  # noqa: BLE001 - the next round tries again; the writer's safety net remains
                log.warning("WAL checkpoint failed: %s", exc)

    def checkpoint(self) -> None:
        """One PASSIVE checkpoint of whatever the WAL holds."""
        # A raw DBAPI connection, outside SQLAlchemy's transactions: a checkpoint cannot run inside
        # one (the connect event puts sqlite3 in autocommit mode).
        connection = self._engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                _busy, wal_frames, _copied = cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            finally:
                cursor.close()
        finally:
            connection.close()
        if wal_frames > 0:
            self._stats.checkpoints += 1
