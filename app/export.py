"""Stored conversations as transcripts in the interchange format (`huashu export`, the export endpoint)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Final

from app.storage.models import StoredConversation, StoredMessage, utc_now
from app.storage.store import TranscriptStore
from app.transcripts import ROLES, Transcript, Turn

EXPORT_PAGE: Final = 200


def to_transcript(conversation: StoredConversation, messages: Sequence[StoredMessage]) -> Transcript:
    """Customer, bot and agent lines in order; system rows (start, action results, takeovers) stay out."""
    turns = tuple(Turn(m.role, m.text, m.created_at) for m in messages if m.role in ROLES)
    return Transcript(
        id=conversation.id,
        channel=conversation.channel,
        turns=turns,
        agent=conversation.agent,
        flow=conversation.flow,
    )


async def export_transcripts(
    store: TranscriptStore,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    state: str | None = None,
    flow: str | None = None,
) -> AsyncIterator[Transcript]:
    """Every matching conversation, newest first, read page by page.

    `until` defaults to now, so conversations created during the export cannot shift the pages.
    """
    until = until or utc_now()
    offset = 0
    while True:
        page, total = await store.list_conversations(
            state=state, flow=flow, since=since, until=until, limit=EXPORT_PAGE, offset=offset
        )
        for conversation in page:
            yield to_transcript(conversation, await store.messages(conversation.id))
        offset += len(page)
        if not page or offset >= total:
            return
