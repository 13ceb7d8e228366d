"""Stored conversations as QA input: read from the `TranscriptStore` through `app.export`.

`huashu qa replay --db` uses `read_database`; the REST route loads one conversation itself.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from app.export import export_transcripts
from app.qa.sources import Item
from app.storage.store import TranscriptStore


async def stored_items(
    store: TranscriptStore, *, since: datetime | None = None, until: datetime | None = None, flow: str | None = None
) -> list[Item]:
    """Every stored conversation in the window (newest first), as transcripts tagged `store:<id>`."""
    return [Item(t, f"store:{t.id}") async for t in export_transcripts(store, since=since, until=until, flow=flow)]


def read_database(url: str, *, since: datetime | None = None, until: datetime | None = None) -> list[Item]:
    """Open the store at `url`, read the conversations, close it (raises `StorageError`)."""
    from app.storage.migrate import open_store

    async def run() -> list[Item]:
        store = await open_store(url)
        try:
            return await stored_items(store, since=since, until=until)
        finally:
            await store.close()

    return asyncio.run(run())
