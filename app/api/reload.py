"""Reloading the pack a running server serves: on SIGHUP and on `POST /api/admin/reload`.

The new pack is read and checked off the event loop; only a pack that passes the whole check (the
same as `huashu check`, QA files included) replaces the running engine, in one assignment between two
turns, so no connection is dropped and no turn sees half of each. A refused pack leaves the running
one serving and reports its defects.

Live conversations keep their place: the engine resumes a conversation whose state the new flow
no longer has at the flow's listening state (`Engine.step`, trigger `reload`). A pack that drops a
flow altogether is refused, since conversations may be on it.

With several workers sharing the Redis bus, a worker that reloads (on its SIGHUP or a REST call)
tells the others over the bus, and each of them reloads the same folders the same way; what they
refuse goes to their logs. Without Redis there is one worker, so there is nobody to tell.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from app.api.deps import Services
from app.content.errors import ContentErrors, SchemaError
from app.engine.step import Engine

log = logging.getLogger("huashu.reload")


@dataclass(frozen=True, slots=True)
class Reloaded:
    """What the server serves after a reload."""

    pack: str  # the scripts folder read
    flows: tuple[str, ...]
    intents: tuple[str, ...]
    version: str  # the content digest (`huashu check` prints it too)


def _load_checked(services: Services) -> Engine:
    from app.qa.commands import qa_file_defects
    from app.runtime import load_engine

    engine = load_engine(services.settings)
    defects = qa_file_defects(services.settings.scripts_dir, engine.content)
    dropped = sorted(set(services.engine.content.flows) - set(engine.content.flows))
    if dropped:
        defects.append(SchemaError(
            f"the new pack drops flow(s) {dropped} that live conversations may be on",
            file=str(services.settings.flows_dir), hint="keep the flow (its states may change) or restart the server"))
    if defects:
        raise ContentErrors(defects)
    return engine


class PackReloader:
    """Serialises reloads (a second request waits for the first) and swaps the engine."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        services.hub.on_remote_reload = self.reload_in_background

    async def reload(self, *, announce: bool = True) -> Reloaded:
        """Read, check and serve the pack again; raises `ContentErrors` (nothing changes) when it is broken.

        `announce`: tell the other workers to reload too (not when they told us)."""
        async with self._lock:
            engine = await asyncio.to_thread(_load_checked, self.services)
            self.services.conversations.engine = engine
            content = engine.content
            log.info("pack reloaded: %s (content %s)", self.services.settings.scripts_dir, content.version)
        if announce:
            self.services.hub.announce_reload()
        return Reloaded(str(self.services.settings.scripts_dir), tuple(content.flows), tuple(content.intents),
                        content.version)

    async def reload_logged(self, *, announce: bool = True) -> None:
        """For SIGHUP and the bus, where nobody waits for an answer: the outcome goes to the log."""
        try:
            await self.reload(announce=announce)
        except ContentErrors as exc:
            log.error("pack reload refused; the running pack stays: %s", "; ".join(d.describe() for d in exc.defects))

    def reload_in_background(self, *, announce: bool = False) -> None:
        """Start a logged reload from a callback (a signal handler, a bus message); by default, one the
        other workers were already told about."""
        task = asyncio.get_running_loop().create_task(self.reload_logged(announce=announce))
        self._tasks.add(task)  # keep a reference until it is done
        task.add_done_callback(self._tasks.discard)
