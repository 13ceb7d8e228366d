"""`ConversationService`: one turn at a time per conversation, each turn durable before it is told.

A turn is: take the conversation's lock, step the engine with the input event (running any
actions the script asks for, `app.driver`), store every resulting row in ONE `append` (so they
commit together), then publish the frames (`app.api.frames`) while still holding the lock, so
every socket sees a conversation's frames in `seq` order and a sender's ack before the replies.

Live conversations are cached per worker and rebuilt from their stored events on a miss: each
stored row holds the engine events from its position in the turn to the next row (a customer
row: the message, what was understood, the moves; a bot row: the line said and what followed;
a system row: an action result, a takeover…), so folding every row's events in `seq` order
gives back the conversation. Another worker's write marks the cached copy stale (hub bus, or a
`seq` gap seen at append), and the next turn refreshes it from the store first.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

from app.actions.runner import ActionRunner
from app.api.auth import customer_token_matches, new_customer_token
from app.api.errors import ApiError, Unauthorized
from app.api.frames import Turn, turn_deliveries
from app.api.hub import Delivery, Hub, Subscriber
from app.driver import step_with_actions, utc_now
from app.engine.conversation import Conversation
from app.engine.events import (
    ActionCompleted,
    ActionFailed,
    AgentSaid,
    BotSaid,
    ConversationStarted,
    CustomerSaid,
    Event,
    GotoRequested,
    MessageUnderstood,
    ModeChanged,
    SlotSet,
)
from app.engine.step import Engine, StepResult
from app.engine.suggest import Suggestion
from app.errors import EngineError
from app.storage.models import ConversationSnapshot, NewConversation, NewMessage, StoredMessage
from app.storage.store import TranscriptStore

CACHE_SIZE: Final = 10_000
RowRole = Literal["customer", "agent", "bot", "system"]


def wire_mode(engine_mode: str) -> Literal["bot", "human"]:
    return "bot" if engine_mode == "bot" else "human"


def engine_mode(mode: str) -> str:
    return "bot" if mode == "bot" else "assist"


@dataclass(frozen=True, slots=True)
class Head:
    """What the first row of an input's events records (the rows after it are bot lines / action results)."""

    role: RowRole
    text: str
    client_id: str | None = None
    phrase_id: str | None = None


@dataclass(eq=False)
class Live:
    """A cached conversation: the fold of its stored events plus what a turn needs to know."""

    id: str
    conversation: Conversation = field(default_factory=Conversation)
    last_seq: int = 0
    token_hash: str = ""
    agent: str | None = None
    ended_at: datetime | None = None
    acked: dict[str, int] = field(default_factory=dict)  # stored client message id → seq
    stale: bool = True  # nothing loaded yet, or another worker wrote since
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def split_rows(before: Conversation, events: Sequence[Event], head: Head, at: datetime) -> list[NewMessage]:
    """The rows one input event's events are stored as: a new row starts at each bot line and action result."""
    segments: list[list[Event]] = []
    for event in events:
        if not segments or isinstance(event, BotSaid | ActionCompleted | ActionFailed):
            segments.append([])
        segments[-1].append(event)
    conversation = before.copy()
    rows = []
    for index, segment in enumerate(segments):
        state_before = conversation.state
        for event in segment:
            conversation.apply(event)
        first = segment[0]
        role: RowRole
        client_id = f"{head.client_id}#{index}" if head.client_id and index else head.client_id
        phrase_id = None
        if isinstance(first, BotSaid):
            role, text, phrase_id = "bot", first.text, first.phrase_id
        elif isinstance(first, ActionCompleted):
            role, text = "system", f"action {first.action} completed"
        elif isinstance(first, ActionFailed):
            role, text = "system", f"action {first.action} failed: {first.reason}"
        else:
            role, text, phrase_id = head.role, head.text, head.phrase_id
        intent = next((e.intent for e in segment if isinstance(e, MessageUnderstood)), None)
        rows.append(
            NewMessage(
                role=role,
                text=text,
                state_before=state_before,
                state_after=conversation.state,
                intent=intent,
                phrase_id=phrase_id,
                suggestions=[],
                client_message_id=client_id,
                events=[e.to_dict() for e in segment],
                created_at=at,
            )
        )
    return rows


class ConversationService:
    """Start, resume and drive conversations; see the module docstring for the turn protocol."""

    def __init__(
        self,
        *,
        store: TranscriptStore,
        engine: Engine,
        runner: ActionRunner,
        hub: Hub,
        clock: Callable[[], datetime] = utc_now,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self.store = store
        self.engine = engine
        self.runner = runner
        self.hub = hub
        self.clock = clock
        self.cache_size = cache_size
        self._cache: OrderedDict[str, Live] = OrderedDict()
        hub.on_remote_change = self.mark_stale

    # ------------------------------------------------------------ the cache

    def mark_stale(self, conversation_id: str | None, last_seq: int) -> None:
        """Another worker stored up to `last_seq` (None: anything may have changed)."""
        if conversation_id is None:
            for live in self._cache.values():
                live.stale = True
            return
        live = self._cache.get(conversation_id)
        if live is not None and live.last_seq < last_seq:
            live.stale = True

    def _entry(self, conversation_id: str) -> Live:
        live = self._cache.get(conversation_id)
        if live is None:
            live = self._cache[conversation_id] = Live(conversation_id)
            if len(self._cache) > self.cache_size:
                self._evict()
        else:
            self._cache.move_to_end(conversation_id)
        return live

    def _evict(self) -> None:
        for key in list(self._cache)[: len(self._cache) - self.cache_size]:
            if not self._cache[key].lock.locked():
                del self._cache[key]

    @asynccontextmanager
    async def _locked(self, conversation_id: str) -> AsyncIterator[Live]:
        live = self._entry(conversation_id)
        async with live.lock:
            if live.stale:
                try:
                    await self._refresh(live)
                except BaseException:
                    if self._cache.get(conversation_id) is live and live.stale:
                        del self._cache[conversation_id]
                    raise
            yield live

    async def _refresh(self, live: Live) -> None:
        stored = await self.store.get_conversation(live.id)  # ConversationNotFound propagates
        messages = await self.store.messages(live.id)
        if not messages:
            # Crashed between creating the conversation and storing its start: start it again.
            await self._store_start(live, stored.flow, stored.channel, stored.mode, dict(stored.slots))
            messages = await self.store.messages(live.id)
        live.conversation = Conversation.from_events(Event.from_dict(e) for m in messages for e in m.events)
        live.last_seq = messages[-1].seq if messages else 0
        live.token_hash = stored.token_hash
        live.agent = stored.agent
        live.ended_at = stored.ended_at
        live.acked = {m.client_message_id: m.seq for m in messages if m.client_message_id and "#" not in m.client_message_id}
        live.stale = False

    # ------------------------------------------------------------ running a turn

    async def _turn(
        self,
        live: Live,
        inputs: Sequence[tuple[Event, Head]],
        *,
        origin: str | None,
        ack_id: str | None = None,
        agent: str | None = None,
        text_for_suggestions: str | None = None,
    ) -> Turn:
        """Step every input, store all rows in one append, publish; the caller holds `live.lock`."""
        now = self.clock()
        before = live.conversation
        conversation = before
        rows: list[NewMessage] = []
        results: list[StepResult] = []
        for event, head in inputs:
            step_results = await step_with_actions(self.engine, self.runner, conversation, event, self.clock)
            rows += split_rows(conversation, [e for r in step_results for e in r.events], head, now)
            results += step_results
            conversation = step_results[-1].conversation
        suggestions = self._suggestions(live.id, conversation, results, text_for_suggestions)
        if suggestions and rows:
            rows[-len(split_rows(before, [], inputs[-1][1], now)) or 0] if False else None
        return await self._commit(live, before, conversation, rows, results, suggestions, origin, ack_id, agent)

    def _suggestions(
        self, conversation_id: str, conversation: Conversation, results: Sequence[StepResult], text: str | None
    ) -> tuple[Suggestion, ...] | None:
        """Suggestions to show agents after this turn, or None when nobody could be looking."""
        if conversation.ended and conversation.mode != "bot":
            return ()
        if results and results[-1].suggestions:
            return results[-1].suggestions
        if text is None or not self.hub.watched(conversation_id):
            return None
        if conversation.mode == "bot" and not conversation.awaiting_agent and False:
            return None
        return tuple(self.engine.suggest(conversation, text))

    async def _commit(
        self,
        live: Live,
        before: Conversation,
        after: Conversation,
        rows: list[NewMessage],
        results: Sequence[StepResult],
        suggestions: tuple[Suggestion, ...] | None,
        origin: str | None,
        ack_id: str | None,
        agent: str | None,
    ) -> Turn:
        now = self.clock()
        if suggestions and rows:
            # "Suggestions shown" are recorded on the row that prompted them (the input's row).
            first = rows[0]
            rows[0] = NewMessage(**{**_fields(first), "suggestions": [s.to_dict() for s in suggestions]})
        ended_at = live.ended_at or (now if after.ended else None)
        agent_name = agent or live.agent
        snapshot = ConversationSnapshot(
            state=after.state,
            slots=dict(after.slots),
            counters=dict(after.counters),
            mode=wire_mode(after.mode),
            ended_at=ended_at,
            agent=agent_name,
        )
        stored = await self.store.append(live.id, rows, snapshot)
        if stored and stored[0].duplicate:
            # Another worker stored this message first: our copy was stale; nothing new here.
            live.stale = True
            return Turn(live.id, before, live.conversation, (), stored[0].seq, None, origin, ack_id, agent)
        fresh = tuple(m for m in stored if not m.duplicate)
        if fresh and fresh[0].seq != live.last_seq + 1:
            live.stale = True  # someone else appended in between; refresh before the next turn
        live.conversation = after
        live.last_seq = max([live.last_seq, *(m.seq for m in fresh)])
        live.ended_at = ended_at
        live.agent = agent_name
        for message in fresh:
            if message.client_message_id and "#" not in message.client_message_id:
                live.acked[message.client_message_id] = message.seq
        turn = Turn(live.id, before, after, fresh, None, suggestions, origin, ack_id, agent)
        await self.hub.publish(live.id, turn_deliveries(turn), live.last_seq)
        return turn

    # ------------------------------------------------------------ customers

    async def start(
        self,
        *,
        flow: str | None,
        mode: str,
        channel: str,
        customer: dict[str, Any] | None,
        origin: str | None = None,
    ) -> tuple[Live, str]:
        """A new conversation (its start stored and published); returns it and the customer's token."""
        name = flow or self.engine.default_flow
        definition = self.engine.content.flows.get(name)
        if definition is None:
            raise ApiError("invalid_field", f"flow: unknown flow {name!r}; flows are: {', '.join(self.engine.content.flows)}")
        if channel not in definition.channels:
            raise ApiError("invalid_field", f"channel: flow {name!r} serves {', '.join(sorted(definition.channels))}")
        slots: dict[str, str] = {}
        if customer and isinstance(customer.get("name"), str) and customer["name"]:
            slots["customer_name"] = customer["name"][:64]
        token, token_hash = new_customer_token()
        live = Live(uuid.uuid4().hex, token_hash=token_hash)
        created_at = self.clock()
        await self.store.create_conversation(
            NewConversation(
                id=live.id,
                flow=name,
                flow_version=definition.version,
                channel=channel,  # type: ignore[arg-type]
                mode=wire_mode(engine_mode(mode)),
                state=definition.initial,
                slots=slots,
                counters={},
                customer=customer,
                token_hash=token_hash,
                created_at=created_at,
            )
        )
        self._cache[live.id] = live
        async with live.lock:
            await self._store_start(live, name, channel, mode, slots, origin=origin)
            live.stale = False
        return live, token

    async def _store_start(
        self, live: Live, flow: str, channel: str, mode: str, slots: dict[str, str], origin: str | None = None
    ) -> Turn:
        event = ConversationStarted(
            conversation_id=live.id,
            flow=flow,
            flow_version=self.engine.content.flows[flow].version,
            channel=channel,
            mode=engine_mode(mode),
            slots=slots,
            at=self.clock(),
        )
        live.conversation = Conversation()
        return await self._turn(live, [(event, Head("system", "conversation started"))], origin=origin)

    @asynccontextmanager
    async def attached(
        self, conversation_id: str, subscriber: Subscriber, *, token: str | None, after_seq: int | None
    ) -> AsyncIterator[tuple[Live, list[StoredMessage]]]:
        """Subscribe `subscriber` and read the messages after `after_seq`, with no gap between the two.

        `token` None means an authenticated agent; a customer must present the conversation's token.
        Unsubscribes when the block exits.
        """
        async with self._locked(conversation_id) as live:
            if token is not None and not customer_token_matches(token, live.token_hash):
                raise Unauthorized("wrong token for this conversation")
            self.hub.subscribe(conversation_id, subscriber)
            try:
                history = [] if after_seq is None else await self.store.messages(conversation_id, after_seq)
            except BaseException:
                self.hub.unsubscribe(conversation_id, subscriber)
                raise
        try:
            yield live, history
        finally:
            self.hub.unsubscribe(conversation_id, subscriber)

    async def customer_message(self, conversation_id: str, client_id: str, text: str, *, origin: str | None) -> Turn:
        async with self._locked(conversation_id) as live:
            if client_id in live.acked:
                return Turn(live.id, live.conversation, live.conversation, (), live.acked[client_id], None, origin, client_id, None)
            event = CustomerSaid(text, client_id, self.clock())
            head = Head("customer", text, client_id)
            try:
                return await self._turn(live, [(event, head)], origin=origin, ack_id=client_id, text_for_suggestions=text)
            except EngineError:
                # The script failed (a flow defect): keep the customer's words, then report.
                await self._commit(
                    live, live.conversation, live.conversation.copy(),
                    split_rows(live.conversation, [event], head, self.clock()), (), None, origin, client_id, None,
                )
                raise

    # ------------------------------------------------------------ agents

    async def agent_message(
        self, conversation_id: str, agent: str, text: str, *, phrase_id: str | None, client_id: str | None, origin: str | None
    ) -> Turn:
        key = f"agent:{agent}:{client_id}" if client_id else None
        async with self._locked(conversation_id) as live:
            if key is not None and key in live.acked:
                return Turn(live.id, live.conversation, live.conversation, (), live.acked[key], None, origin, client_id, agent)
            now = self.clock()
            inputs: list[tuple[Event, Head]] = []
            if live.conversation.mode == "bot":
                inputs.append((ModeChanged("assist", agent, now), Head("system", f"{agent} took over")))
            inputs.append((AgentSaid(text, phrase_id, agent, now), Head("agent", text, key, phrase_id)))
            return await self._turn(live, inputs, origin=origin, ack_id=client_id, agent=agent, text_for_suggestions="")

    async def set_slot(self, conversation_id: str, agent: str, name: str, value: str, *, origin: str | None) -> Turn:
        async with self._locked(conversation_id) as live:
            head = Head("system", f"{agent} set {name}")
            return await self._turn(live, [(SlotSet(name, value), head)], origin=origin, agent=agent, text_for_suggestions="")

    async def goto(self, conversation_id: str, agent: str, state: str, *, origin: str | None) -> Turn:
        async with self._locked(conversation_id) as live:
            flow = self.engine.content.flows[live.conversation.flow]
            if state not in flow.states:
                raise ApiError("unknown_state", f"flow {flow.name!r} has no state {state!r}; states: {', '.join(flow.states)}")
            event = GotoRequested(state, agent, self.clock())
            return await self._turn(live, [(event, Head("system", f"{agent} moved to {state}"))], origin=origin, agent=agent, text_for_suggestions="")

    async def set_mode(self, conversation_id: str, agent: str, mode: Literal["bot", "assist"], *, origin: str | None) -> Turn | None:
        """`takeover` (assist) or `release` (bot); None when the conversation already is there."""
        async with self._locked(conversation_id) as live:
            current = live.conversation
            if current.mode == mode and not current.awaiting_agent:
                return None
            what = "took over" if mode == "assist" else "released to the bot"
            event = ModeChanged(mode, agent, self.clock())
            return await self._turn(live, [(event, Head("system", f"{agent} {what}"))], origin=origin, agent=agent, text_for_suggestions="")

    async def current_suggestions(self, live: Live) -> tuple[Suggestion, ...]:
        conversation = live.conversation
        if conversation.ended and conversation.mode != "bot":
            return ()
        return tuple(self.engine.suggest(conversation, ""))


def _fields(message: NewMessage) -> dict[str, Any]:
    return {name: getattr(message, name) for name in NewMessage.__dataclass_fields__}


def ack_delivery(text: str, origin: str) -> Delivery:
    return Delivery("all", text, only=origin)
