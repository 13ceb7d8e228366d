"""Stored conversations as transcripts in the interchange format (`huashu export`, the export endpoint)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Final

from app.pii import mask_all
from app.storage.models import StoredConversation, StoredMessage, utc_now
from app.storage.store import TranscriptStore
from app.transcripts import ROLES, Transcript, Turn

EXPORT_PAGE: Final = 200


def to_transcript(conversation: StoredConversation, messages: Sequence[StoredMessage], *,
                  mask: bool = False) -> Transcript:
    """Customer, bot and agent lines in order; system rows (start, action results, takeovers) stay out.

    `mask`: phone, ID and bank card numbers and e-mail addresses masked (app/pii.py), as exports leave
    the service by default; QA and letters read the raw words (QA must see what an agent exposed).
    """
    turns = tuple(Turn(m.role, mask_all(m.text) if mask else m.text, m.created_at) for m in messages if m.role in ROLES)
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
    mask: bool = False,
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
            yield to_transcript(conversation, await store.messages(conversation.id), mask=mask)
        offset += len(page)
        if not page or offset >= total:
            return


def masked_summary(conversation: StoredConversation) -> dict[str, object]:
    """A conversation's row for listings, its slot values and customer details masked."""
    data = conversation.to_dict()
    data["slots"] = {k: mask_all(v) if isinstance(v, str) else v for k, v in conversation.slots.items()}
    if conversation.customer is not None:
        data["customer"] = {k: mask_all(v) if isinstance(v, str) else v for k, v in conversation.customer.items()}
    return data
