"""From stored turns to wire frames: what each kind of socket is told about a turn.

A customer sees: its `ack`, the bot's `reply` lines, the agents' `agent_message`s, and a
`status` when who-answers changes (takeover, release, hand-off) or the conversation ends.
An agent sees: `customer_message`, `reply`, other agents' `agent_message`s, an `ack` for its
own message, a `status` (with slots) after every turn, and fresh `suggestions`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from app.api.hub import Delivery
from app.api.messages import (
    AckFrame,
    AgentMessageOutFrame,
    CustomerMessageFrame,
    HistoryFrame,
    HistoryMessage,
    QueueItem,
    ReplyFrame,
    StartedFrame,
    StatusFrame,
    SuggestionItem,
    SuggestionsFrame,
    encode,
)
from app.content.model import Flow
from app.engine.conversation import Conversation
from app.engine.suggest import Suggestion
from app.storage.models import StoredMessage
from app.vocab import wire_mode

TALK_ROLES = frozenset({"customer", "bot", "agent"})
STATUS_EVENTS = frozenset({"mode_changed", "handoff_requested", "conversation_ended"})


@dataclass(frozen=True, slots=True)
class Turn:
    """What one call of the service stored, for the frames that tell it.

    `duplicate_of` is the seq of the already stored message when the input was a resend
    (then nothing was stored), and `replies` the number of bot lines its turn stored then.
    `ack`: the sender gets an `ack` with `ack_id` for its message. `started_token` is set on the
    turn that started a conversation (its `started` frame).
    """

    conversation_id: str
    before: Conversation
    after: Conversation
    stored: tuple[StoredMessage, ...] = ()
    duplicate_of: int | None = None
    replies: int | None = None
    suggestions: tuple[Suggestion, ...] | None = None
    origin: str | None = None
    ack: bool = False
    ack_id: str | None = None
    agent: str | None = None
    started_token: str | None = None


def status_frame(conversation: Conversation, *, for_agent: bool, agent: str | None = None) -> StatusFrame:
    return StatusFrame(
        state=conversation.state,
        mode=wire_mode(conversation.mode),
        awaiting_agent=conversation.awaiting_agent,
        ended=conversation.ended,
        slots=dict(conversation.slots) if for_agent else None,
        agent=agent if for_agent else None,
    )


def suggestions_frame(state: str, intent: str | None, suggestions: Iterable[Suggestion]) -> SuggestionsFrame:
    return SuggestionsFrame(
        state=state,
        intent=intent,
        items=[
            SuggestionItem(
                phrase_id=s.phrase_id,
                text=s.text,
                score=s.score,
                missing_slots=list(s.missing_slots),
                stage=s.stage,
                reason=s.reason,
            )
            for s in suggestions
        ],
    )


def started_frame(conversation_id: str, token: str, conversation: Conversation) -> StartedFrame:
    return StartedFrame(
        conversation_id=conversation_id,
        token=token,
        flow=conversation.flow,
        flow_version=conversation.flow_version,
        state=conversation.state,
        mode=wire_mode(conversation.mode),
        ended=conversation.ended,
        rating=conversation.rating,
    )


def history_message(message: StoredMessage) -> HistoryMessage:
    return HistoryMessage(
        seq=message.seq,
        role=message.role,
        text=message.text,
        ts=message.created_at.isoformat(),
        state=message.state_after,
        id=message.client_message_id if message.role == "customer" else None,
        phrase_id=message.phrase_id,
        intent=message.intent,
    )


def history(messages: Sequence[StoredMessage], *, include_system: bool) -> list[HistoryMessage]:
    return [history_message(m) for m in messages if include_system or m.role in TALK_ROLES]


def history_frame(page: Sequence[StoredMessage], more: bool, *, include_system: bool) -> HistoryFrame:
    """One page of stored messages; `next_after_seq` is where the next page starts when `more`."""
    return HistoryFrame(messages=history(page, include_system=include_system), more=more,
                        next_after_seq=page[-1].seq if more and page else None)


def _message_deliveries(
    turn: Turn, message: StoredMessage, intent: str | None, agents: bool
) -> list[Delivery]:
    out: list[Delivery] = []
    if message.role == "customer":
        if turn.ack and turn.origin is not None:
            replies = sum(1 for m in turn.stored if m.role == "bot")
            ack = AckFrame(id=turn.ack_id, seq=message.seq, replies=replies)
            out.append(Delivery("all", encode(ack), message.seq, only=turn.origin))
        if agents:
            frame = CustomerMessageFrame(
                seq=message.seq, text=message.text, id=message.client_message_id, intent=message.intent
            )
            out.append(Delivery("agent", encode(frame), message.seq))
    elif message.role == "system" and turn.ack and turn.origin is not None and _is_rating(message):
        # A rating is an input stored as a system row: acked to the customer who sent it.
        out.append(Delivery("all", encode(AckFrame(id=turn.ack_id, seq=message.seq)), message.seq, only=turn.origin))
    elif message.role == "bot":
        reply = ReplyFrame(
            seq=message.seq,
            text=message.text,
            phrase_id=message.phrase_id or "",
            state=message.state_after,
            intent=intent,
        )
        out.append(Delivery("all", encode(reply), message.seq))
    elif message.role == "agent":
        if turn.ack and turn.origin is not None and agents:
            out.append(
                Delivery(
                    "agent", encode(AckFrame(id=turn.ack_id, seq=message.seq)), message.seq, only=turn.origin
                )
            )
        out.append(
            Delivery(
                "customer", encode(AgentMessageOutFrame(seq=message.seq, text=message.text)), message.seq
            )
        )
        if agents:
            to_agents = AgentMessageOutFrame(
                seq=message.seq, text=message.text, agent=turn.agent, phrase_id=message.phrase_id
            )
            out.append(Delivery("agent", encode(to_agents), message.seq, skip=turn.origin))
    return out


def queue_item(conversation_id: str, conversation: Conversation, flow: Flow, *, agent: str | None,
               last_customer_text: str | None, at: datetime) -> QueueItem:
    """A conversation as the agents' queue shows it."""
    spec = flow.states.get(conversation.state)
    return QueueItem(
        conversation_id=conversation_id,
        state=conversation.state,
        state_title=(spec.title if spec else "") or conversation.state,
        stage=spec.stage if spec else "",
        mode=wire_mode(conversation.mode),
        awaiting_agent=conversation.awaiting_agent,
        ended=conversation.ended,
        agent=agent,
        channel=conversation.channel,
        flow=conversation.flow,
        customer=conversation.slots.get("customer_name"),
        last_customer_text=last_customer_text,
        at=at.isoformat(),
    )


def queue_worthy(turn: Turn) -> bool:
    """Does the queue hear of this turn? A start, a change of who answers or of the end, and a customer's
    line while a person answers or is awaited; a bot's ordinary turns would only be noise (and bus traffic)."""
    before, after = turn.before, turn.after
    if turn.started_token is not None:
        return True
    if (before.mode, before.awaiting_agent, before.ended) != (after.mode, after.awaiting_agent, after.ended):
        return True
    person = after.mode != "bot" or after.awaiting_agent
    return person and any(m.role == "customer" for m in turn.stored)


def _is_rating(message: StoredMessage) -> bool:
    return bool(message.events) and message.events[0].get("type") == "rating_given"


def turn_deliveries(turn: Turn, *, agents: bool = True) -> list[Delivery]:
    """Every frame of a stored turn, addressed; in the order the sockets must receive them.

    `agents=False` (no agent can be listening: `Hub.watched`) leaves out the frames only agents
    get, which most bot turns would otherwise encode for nobody.
    """
    out: list[Delivery] = []
    if turn.started_token is not None and turn.origin is not None:
        started = started_frame(turn.conversation_id, turn.started_token, turn.after)
        out.append(Delivery("all", encode(started), only=turn.origin))
    intent = next((m.intent for m in turn.stored if m.role == "customer"), None)
    before, after = turn.before, turn.after
    changed = (before.mode, before.awaiting_agent, before.ended) != (
        after.mode,
        after.awaiting_agent,
        after.ended,
    )
    customer_status = changed and turn.started_token is None
    for message in turn.stored:
        out += _message_deliveries(turn, message, intent, agents)
        if customer_status and any(e.get("type") in STATUS_EVENTS for e in message.events):
            # Right after the row that changed who answers: a takeover before the agent's words,
            # a hand-off after the bot's "transferring you" line.
            out.append(Delivery("customer", encode(status_frame(after, for_agent=False))))
            customer_status = False
    if customer_status:
        out.append(Delivery("customer", encode(status_frame(after, for_agent=False))))
    if turn.stored and agents:
        out.append(Delivery("agent", encode(status_frame(after, for_agent=True, agent=turn.agent))))
    if turn.suggestions is not None and agents:
        out.append(Delivery("agent", encode(suggestions_frame(after.state, intent, turn.suggestions))))
    return out
