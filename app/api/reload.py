"""Reloading the pack a running server serves: on SIGHUP and on `POST /api/admin/reload`.

The new pack is read and checked off the event loop; only a pack that passes the whole check (the
same as `huashu check`, QA files included) replaces the running engine, in one assignment between two
turns, so no connection is dropped and no turn sees half of each. A refused pack leaves the running
one serving and reports its defects.

Live conversations keep their place: the engine resumes a conversation whose state the new flow
no longer has at the flow's listening state (`Engine.step`, trigger `reload`). A pack that drops a
flow altogether is refused, since conversations may be on it.
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

    async def reload(self) -> Reloaded:
        """Read, check and serve the pack again; raises `ContentErrors` (nothing changes) when it is broken."""
        async with self._lock:
            engine = await asyncio.to_thread(_load_checked, self.services)
            self.services.conversations.engine = engine
            content = engine.content
            log.info("pack reloaded: %s (content %s)", self.services.settings.scripts_dir, content.version)
            return Reloaded(str(self.services.settings.scripts_dir), tuple(content.flows), tuple(content.intents),
                            content.version)

    async def reload_logged(self) -> None:
        """For SIGHUP, where nobody waits for an answer: the outcome goes to the log."""
        try:
            await self.reload()
        except ContentErrors as exc:
            log.error("pack reload refused; the running pack stays: %s", "; ".join(d.describe() for d in exc.defects))
