"""From one turn's engine events to the transcript rows that store them.

A row starts at the input (the customer's or agent's message, or a system event such as the start
or a takeover), at each bot line (`BotSaid`) and at each action result; it holds the events from
its position to the next row. Folding every row's events in `seq` order re-creates the
conversation, which is how a worker rebuilds a conversation it has not cached.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from app.engine.conversation import Conversation
from app.engine.events import ActionCompleted, ActionFailed, BotSaid, Event, MessageUnderstood, StateEntered
from app.storage.models import NewMessage, StoredMessage
from app.vocab import Role

RowRole = Role


@dataclass(frozen=True, slots=True)
class Head:
    """What the first row of an input's events records (later rows are bot lines / action results)."""

    role: RowRole
    text: str
    client_id: str | None = None
    phrase_id: str | None = None


def split_rows(before: Conversation, events: Sequence[Event], head: Head, at: datetime) -> list[NewMessage]:
    """The rows one input's events are stored as: a new row starts at each bot line and action result.

    Rows after the first get client ids derived from the input's (`<id>#1`, `<id>#2`…), so a
    replayed turn is a duplicate through and through and can never be stored twice.
    """
    segments: list[list[Event]] = []
    for event in events:
        if not segments or isinstance(event, BotSaid | ActionCompleted | ActionFailed):
            segments.append([])
        segments[-1].append(event)
    state = before.state  # only StateEntered moves it: no need to fold a copy of the conversation
    rows = []
    for index, segment in enumerate(segments):
        state_before = state
        for event in segment:
            if isinstance(event, StateEntered):
                state = event.state
        first = segment[0]
        role: RowRole = head.role
        text, phrase_id = head.text, head.phrase_id
        if isinstance(first, BotSaid):
            role, text, phrase_id = Role.BOT, first.text, first.phrase_id
        elif isinstance(first, ActionCompleted):
            role, text, phrase_id = Role.SYSTEM, f"action {first.action} completed", None
        elif isinstance(first, ActionFailed):
            role, text, phrase_id = Role.SYSTEM, f"action {first.action} failed: {first.reason}", None
        rows.append(
            NewMessage(
                role=role,
                text=text,
                state_before=state_before,
                state_after=state,
                intent=next((e.intent for e in segment if isinstance(e, MessageUnderstood)), None),
                phrase_id=phrase_id,
                suggestions=[],
                client_message_id=f"{head.client_id}#{index}" if head.client_id and index else head.client_id,
                events=[e.to_dict() for e in segment],
                created_at=at,
            )
        )
    return rows


class Ack(NamedTuple):
    """What a stored input was acked with: its seq and how many bot lines its turn stored."""

    seq: int
    replies: int


def acks(messages: Iterable[StoredMessage]) -> dict[str, Ack]:
    """The ack of every input among `messages` with a client id (a turn's later rows are `<id>#k`)."""
    seqs: dict[str, int] = {}
    replies: Counter[str] = Counter()
    for message in messages:
        if not message.client_message_id:
            continue
        own, derived, _ = message.client_message_id.partition("#")
        if not derived:
            seqs[own] = message.seq
        elif message.role == "bot":
            replies[own] += 1
    return {key: Ack(seq, replies[key]) for key, seq in seqs.items()}
