"""Stored conversations as transcripts in the interchange format (`huashu export`, the export endpoint)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from app.aftercare.complaints import ComplaintRecord
from app.aftercare.records import Commitment, Rating
from app.pii import mask_all
from app.storage.models import StoredConversation, StoredMessage, utc_now
from app.storage.store import TranscriptStore
from app.transcripts import ROLES, Transcript, Turn

EXPORT_PAGE: Final = 200
MAX_COMMITMENTS: Final = 1000  # promises one conversation's export carries (a chat makes a handful)


def to_transcript(conversation: StoredConversation, messages: Sequence[StoredMessage], *,
                  mask: bool = False, aftercare: Aftercare | None = None) -> Transcript:
    """Customer, bot and agent lines in order; system rows (start, action results, takeovers) stay out.

    `mask`: phone, ID and bank card numbers and e-mail addresses masked (app/pii.py), as exports leave
    the service by default; QA and letters read the raw words (QA must see what an agent exposed).
    """
    spoken = [m for m in messages if m.role in ROLES]
    turns = tuple(Turn(m.role, mask_all(m.text) if mask else m.text, m.created_at) for m in spoken)
    return Transcript(
        id=conversation.id,
        channel=conversation.channel,
        turns=turns,
        agent=conversation.agent,
        flow=conversation.flow,
        aftercare=aftercare.to_dict({m.seq: index for index, m in enumerate(spoken)}, mask=mask) if aftercare else {},
    )


@dataclass(frozen=True)
class Aftercare:
    """What followed a conversation, as read from the store at `now` (docs/aftercare.md)."""

    now: datetime
    rating: Rating | None = None
    commitments: tuple[Commitment, ...] = ()
    complaint: ComplaintRecord | None = None

    def to_dict(self, turn_of_seq: Mapping[int, int], *, mask: bool) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.rating is not None:
            data["rating"] = {**self.rating.to_dict(), "intent": self.rating.intent}
        if self.commitments:
            # `turn`: where in the transcript's turns the promise was made (QA points its finding there).
            data["commitments"] = [{**c.to_dict(self.now), "turn": turn_of_seq.get(c.seq)} for c in self.commitments]
        if self.complaint is not None:
            data["complaint"] = self.complaint.to_dict()
        if mask:
            data = _masked(data)
        return data


async def read_aftercare(store: TranscriptStore, conversation_id: str, now: datetime) -> Aftercare:
    """A conversation's rating, commitments (all of them, by due time) and complaint record."""
    commitments = await store.commitments(now=now, conversation_id=conversation_id, limit=MAX_COMMITMENTS)
    return Aftercare(now, await store.rating(conversation_id), tuple(commitments),
                     await store.complaint_for(conversation_id))


def _masked(value: Any) -> Any:
    """Personal numbers masked in every text of the aftercare records (a comment, a complaint's description)."""
    if isinstance(value, str):
        return mask_all(value)
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    return value


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
    now = utc_now()
    until = until or now
    offset = 0
    while True:
        page, total = await store.list_conversations(
            state=state, flow=flow, since=since, until=until, limit=EXPORT_PAGE, offset=offset
        )
        for conversation in page:
            aftercare = await read_aftercare(store, conversation.id, now)
            yield to_transcript(conversation, await store.messages(conversation.id), mask=mask, aftercare=aftercare)
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
