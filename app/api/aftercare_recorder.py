"""What a stored turn leaves behind after the chat: the rating, the promises made, the complaint record.

`AftercareRecorder.after_turn` runs once a turn is committed and delivered. It reads the turn's stored
rows: a `rating_given` event becomes the conversation's rating; a bot or agent line that promises
something with a time ("我们会在24小时内给您答复") becomes a commitment; a customer line understood as
`complaint` opens the conversation's complaint record. Each record is keyed by where it came from, so
reading the same rows again (a retried turn, `huashu aftercare rescan`, which reads stored conversations
again) records nothing twice. A failed write is logged and never fails the turn, which the customer
already has; a rescan writes what was missed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Final

from app.aftercare.complaints import ComplaintRecord
from app.aftercare.promises import PromiseRules, find_promises
from app.aftercare.records import Commitment, Rating
from app.engine.conversation import Conversation
from app.errors import HuashuError
from app.pii import mask_all
from app.storage.models import StoredConversation, StoredMessage
from app.storage.store import TranscriptStore
from app.vocab import Role

log = logging.getLogger(__name__)
COMPLAINT_INTENT: Final = "complaint"  # one of the core intents every pack has (docs/packs.md)
BOT: Final = "bot"  # who promised, when no person did


class AftercareRecorder:
    def __init__(self, store: TranscriptStore, rules: Callable[[], PromiseRules | None]) -> None:
        self.store = store
        self.rules = rules  # the served pack's (a reload changes them); None: the pack tracks no promises

    async def after_turn(self, conversation_id: str, after: Conversation, agent: str | None,
                         stored: Sequence[StoredMessage]) -> None:
        """Record what the turn's rows carry; see the module docstring."""
        try:
            await self.record(conversation_id, after, agent, stored)
        except HuashuError as exc:
            log.warning("aftercare records of %s not written: %s", conversation_id, exc)

    async def record(self, conversation_id: str, after: Conversation, agent: str | None,
                     stored: Sequence[StoredMessage], conversation: StoredConversation | None = None) -> None:
        rating = _rating(conversation_id, stored, after, agent)
        promises = self._commitments(conversation_id, stored, agent)
        complaint = next((m for m in stored if m.role == Role.CUSTOMER and m.intent == COMPLAINT_INTENT), None)
        if rating is None and not promises and complaint is None:
            return  # most turns: nothing to record, and nothing read
        if rating is not None:
            await self.store.save_rating(rating)
        opens = complaint is not None and await self.store.complaint_for(conversation_id) is None
        if not promises and not opens:
            return
        customer = await self._customer(conversation_id, after, conversation)  # read once, for both
        if promises:
            await self.store.add_commitments([replace(c, customer=customer) for c in promises])
        if opens and complaint is not None:
            await self.store.add_complaint(ComplaintRecord.received(
                id=uuid.uuid4().hex, conversation_id=conversation_id, at=complaint.created_at, channel=after.channel,
                people=tuple(p for p in (customer, agent) if p), description=mask_all(complaint.text),
            ))

    def _commitments(self, conversation_id: str, stored: Sequence[StoredMessage], agent: str | None) -> list[Commitment]:
        """The promises of bot and agent lines, `customer` left for the caller (reading it may need the store)."""
        rules = self.rules()
        if rules is None:
            return []
        found: list[Commitment] = []
        failed_action = False
        for message in stored:
            if message.role in (Role.CUSTOMER, Role.AGENT):
                failed_action = False  # a new input: what failed before belongs to an earlier turn
            failed_action = failed_action or any(e.get("type") == "action_failed" for e in message.events)
            if message.role not in (Role.BOT, Role.AGENT):
                continue
            for index, promise in enumerate(find_promises(message.text, message.created_at, rules)):
                source = "action_failed" if failed_action and message.role == Role.BOT else (
                    "phrase" if message.phrase_id else "free_text")
                found.append(Commitment(
                    id=Commitment.make_id(conversation_id, message.seq, index), conversation_id=conversation_id,
                    seq=message.seq, what=promise.what, customer="", source=source, phrase_id=message.phrase_id,
                    promised_by=_speaker(message, agent),
                    window=promise.window, made_at=message.created_at, due_at=promise.due_at,
                ))
        return found

    async def _customer(self, conversation_id: str, after: Conversation,
                        conversation: StoredConversation | None) -> str:
        """For whom: the customer's name when the conversation knows it, else their id, else the conversation."""
        if after.slots.get("customer_name"):
            return after.slots["customer_name"]
        stored = conversation or await self.store.get_conversation(conversation_id)
        customer: dict[str, Any] = stored.customer or {}
        for key in ("name", "id"):
            if isinstance(customer.get(key), str) and customer[key].strip():
                return str(customer[key]).strip()
        return conversation_id


def _rating(conversation_id: str, stored: Sequence[StoredMessage], after: Conversation,
            agent: str | None) -> Rating | None:
    """The turn's (last) rating, with what it is aggregated by: channel, flow, agent and the topic intent."""
    given = [(e, m) for m in stored for e in m.events if e.get("type") == "rating_given"]
    if not given:
        return None
    event, message = given[-1]
    at = datetime.fromisoformat(event["at"]) if event.get("at") else message.created_at
    return Rating(conversation_id, int(event["score"]), str(event.get("comment", "")), at, channel=after.channel,
                  flow=after.flow, agent=agent, intent=after.slots.get("topic") or "other")


def _speaker(message: StoredMessage, agent: str | None) -> str:
    """Who said a line: the agent named in its `agent_said` event, else the conversation's agent; the bot's lines are the bot's."""
    if message.role != Role.AGENT:
        return BOT
    said = next((e.get("agent") for e in message.events if e.get("type") == "agent_said"), None)
    return str(said or agent or BOT)
