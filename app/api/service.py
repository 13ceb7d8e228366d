"""`ConversationService`: one turn at a time per conversation, each turn durable before it is told.

A turn: take the conversation's lock, step the engine with the input event (running any actions
the script asks for, `app.driver`), store every resulting row in ONE `append` (so they commit
together), then publish the turn's frames (`app.api.frames`) while still holding the lock, so
every socket sees a conversation's frames in `seq` order and a sender its `ack` before the replies.

Live conversations are cached per worker and rebuilt from their stored events on a miss: each
stored row holds the engine events from its position in the turn to the next row (a customer
row: the message, what was understood, the moves; a bot row: the line said and what followed;
a system row: the start, an action result, a takeover…), so folding every row's events in `seq`
order gives back the conversation.

Several workers may drive one conversation (`huashu serve --workers N`); the lock above is per
worker. Every append is conditional on the `seq` the turn was stepped from, so a turn stepped on
a copy another worker has since moved past is refused by the store (`SeqConflict`), not stored:
the worker refreshes its copy and steps the input again (`_serialised`). Another worker's write
also marks the cached copy stale through the hub's bus, so most turns never meet a conflict.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import islice
from typing import Any, Final, TypeVar

from app.actions.runner import ActionRunner
from app.api.auth import customer_token_matches, new_customer_token
from app.api.errors import ApiError, Unauthorized
from app.api.frames import Turn, history_frame, queue_item, queue_worthy, turn_deliveries
from app.api.hub import Delivery, Hub, Subscriber
from app.api.messages import HISTORY_PAGE, NoticeFrame, QueueItem, QueueItemFrame, encode
from app.api.rows import Ack, Head, acks, split_rows
from app.config import DEFAULT_CONVERSATION_CACHE
from app.driver import step_with_actions
from app.engine.conversation import Conversation
from app.engine.events import (
    AgentSaid,
    ConversationStarted,
    CustomerSaid,
    Event,
    GotoRequested,
    ModeChanged,
    RatingGiven,
    SlotSet,
)
from app.engine.step import Engine, StepResult
from app.engine.suggest import Suggestion
from app.errors import ConversationNotFound, EngineError, HuashuError, SeqConflict
from app.storage.models import ConversationSnapshot, NewConversation, NewMessage, StoredMessage, utc_now
from app.storage.store import TranscriptStore
from app.vocab import Mode, Role, engine_mode, wire_mode

# A turn refused because another worker appended first is stepped again on a refreshed copy; a
# conversation this contended is unusual (one customer, one agent), so a few attempts suffice.
MAX_TURN_ATTEMPTS: Final = 5
T = TypeVar("T")
log = logging.getLogger(__name__)
QUEUE_CHANNEL: Final = "queue:agents"  # the hub's channel of the agents' live queue (no conversation id has a colon)
BUS_DEGRADED: Final = "the link between servers is down: messages to and from the other side may be delayed"
BUS_RECOVERED: Final = "the link between servers is back; anything missed was sent as history"
OnAttached = Callable[["Live", list[StoredMessage], bool], None]  # live, the first page, more pages follow
AfterCommit = Callable[[str, Conversation, "str | None", Sequence[StoredMessage]], Awaitable[None]]


@dataclass(eq=False)
class Live:
    """A cached conversation: the fold of its stored events plus what a turn needs to know."""

    id: str
    conversation: Conversation = field(default_factory=Conversation)
    last_seq: int = 0
    token_hash: str = ""
    agent: str | None = None
    ended_at: datetime | None = None
    acked: dict[str, Ack] = field(default_factory=dict)  # stored client message id → its ack
    stale: bool = True  # nothing loaded yet, or another worker wrote since
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


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
        cache_size: int = DEFAULT_CONVERSATION_CACHE,
    ) -> None:
        self.store = store
        self.engine = engine
        self.runner = runner
        self.hub = hub
        self.clock = clock
        self.cache_size = cache_size
        self._cache: OrderedDict[str, Live] = OrderedDict()
        hub.on_degraded = self.bus_degraded
        hub.on_recovered = self.bus_recovered
        self.on_handoff: Callable[[], None] | None = None  # told when a turn hands a conversation to a human
        # Told each stored turn's new rows once they are delivered (the aftercare records: app/api/aftercare.py).
        self.after_commit: AfterCommit | None = None
        hub.on_remote_change = self.mark_stale

    # ------------------------------------------------------------ the cache

    # ------------------------------------------------------------ the bus between workers

    def bus_degraded(self) -> None:
        """Tell every socket of this worker that frames from the other workers are held up."""
        notice = encode(NoticeFrame(code="degraded", message=BUS_DEGRADED))
        for subscribers in self.hub.local_subscribers().values():
            for subscriber in subscribers:
                subscriber.deliver(Delivery(subscriber.audience, notice, only=subscriber.id))

    async def bus_recovered(self) -> None:
        """Give every socket of this worker the stored messages it missed while the bus was down (one
        `history` page; `more` leads on), then say the bus is back."""
        notice = encode(NoticeFrame(code="recovered", message=BUS_RECOVERED))
        for conversation_id, subscribers in self.hub.local_subscribers().items():
            seen = {s.id: getattr(s, "seen_seq", None) for s in subscribers}
            known = [value for value in seen.values() if value is not None]
            missed: list[StoredMessage] = []
            if known and conversation_id != QUEUE_CHANNEL:  # the queue has no history: it refreshes itself
                try:
                    missed = await self.store.messages(conversation_id, min(known), HISTORY_PAGE + 1)
                except HuashuError as exc:  # the store may be gone too: the clients can still resume
                    log.warning("bus recovery: cannot read %s: %s", conversation_id, exc)
            for subscriber in subscribers:
                after = seen[subscriber.id]
                page = [m for m in missed if after is not None and m.seq > after][:HISTORY_PAGE]
                if page:
                    frame = history_frame(page, len(missed) > HISTORY_PAGE,
                                          include_system=subscriber.audience == "agent")
                    subscriber.deliver(Delivery(subscriber.audience, encode(frame), seq=page[-1].seq,
                                                only=subscriber.id))
                subscriber.deliver(Delivery(subscriber.audience, notice, only=subscriber.id))

    @property
    def live_count(self) -> int:
        """Conversations this worker holds in memory."""
        return len(self._cache)

    def mark_stale(self, conversation_id: str | None, last_seq: int) -> None:
        """Another worker stored up to `last_seq` (conversation None: anything may have changed)."""
        if conversation_id is None:
            for cached in self._cache.values():
                cached.stale = True
            return
        live = self._cache.get(conversation_id)
        if live is not None and live.last_seq < last_seq:
            live.stale = True

    def _entry(self, conversation_id: str) -> Live:
        live = self._cache.get(conversation_id)
        if live is None:
            return self._remember(Live(conversation_id))
        self._cache.move_to_end(conversation_id)
        return live

    def _remember(self, live: Live) -> Live:
        """Cache `live` as the most recently used entry, dropping the least recently used unlocked
        ones beyond `cache_size` (a dropped conversation is rebuilt from the store when needed)."""
        self._cache[live.id] = live
        excess = len(self._cache) - self.cache_size
        if excess > 0:
            for key in list(islice(self._cache, excess)):
                if not self._cache[key].lock.locked():
                    del self._cache[key]
        return live

    @asynccontextmanager
    async def _locked(self, conversation_id: str) -> AsyncIterator[Live]:
        live = self._entry(conversation_id)
        async with live.lock:
            if live.stale:
                try:
                    await self._refresh(live)
                except BaseException:
                    if self._cache.get(conversation_id) is live and live.stale:
                        del self._cache[conversation_id]  # e.g. not found: do not keep an empty entry
                    raise
            yield live

    async def _serialised(self, conversation_id: str, turn: Callable[[Live], Awaitable[T]]) -> T:
        """Run `turn` under the conversation's lock, again on a refreshed copy while the store
        refuses its append because another worker appended first. A rerun starts over: a resend
        that other worker already stored is acked, not stored twice, and a script action the turn
        requested runs again (handlers are look-ups: running one twice is harmless)."""
        for attempt in range(1, MAX_TURN_ATTEMPTS + 1):
            async with self._locked(conversation_id) as live:
                try:
                    return await turn(live)
                except SeqConflict:
                    live.stale = True  # refresh before the next attempt, or the next turn after giving up
                    if attempt == MAX_TURN_ATTEMPTS:
                        raise
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _refresh(self, live: Live) -> None:
        stored = await self.store.get_conversation(live.id)  # ConversationNotFound propagates
        messages = await self.store.messages(live.id)
        live.token_hash, live.agent, live.ended_at = stored.token_hash, stored.agent, stored.ended_at
        if not messages:
            # Crashed between creating the conversation and storing its start: start it again.
            live.conversation, live.last_seq = Conversation(), 0
            with contextlib.suppress(SeqConflict):  # another worker restarted it first: read what it stored
                await self._store_start(
                    live, stored.flow, stored.channel, stored.mode, dict(stored.slots), None, None
                )
            messages = await self.store.messages(live.id)
        live.conversation = Conversation.from_events(Event.from_dict(e) for m in messages for e in m.events)
        live.last_seq = messages[-1].seq
        live.acked = acks(messages)
        live.stale = False

    # ------------------------------------------------------------ running a turn

    async def _turn(
        self,
        live: Live,
        inputs: Sequence[tuple[Event, Head]],
        *,
        origin: str | None,
        ack: bool = False,
        ack_id: str | None = None,
        agent: str | None = None,
        suggest_for: str | None = None,
        started_token: str | None = None,
    ) -> Turn:
        """Step every input, store all rows in one append, publish. The caller holds `live.lock`."""
        now = self.clock()
        before = conversation = live.conversation
        rows: list[NewMessage] = []
        results: list[StepResult] = []
        for event, head in inputs:
            step_results = await step_with_actions(self.engine, self.runner, conversation, event, self.clock)
            rows += split_rows(conversation, [e for r in step_results for e in r.events], head, now)
            results += step_results
            conversation = step_results[-1].conversation
        suggestions = self._suggestions(live.id, conversation, results[-1], suggest_for)
        turn = Turn(
            live.id, before, conversation, suggestions=suggestions, origin=origin, ack=ack, ack_id=ack_id,
            agent=agent, started_token=started_token,
        )
        return await self._commit(live, turn, rows)

    def _suggestions(
        self, conversation_id: str, conversation: Conversation, last: StepResult, text: str | None
    ) -> tuple[Suggestion, ...] | None:
        """Suggestions to show agents after a turn, or None when nobody could be looking.

        The engine ranks them itself in human (assist) mode; for a bot conversation they are
        only worth computing when an agent may be watching.
        """
        if last.suggestions:
            return last.suggestions
        if text is None or not self.hub.watched(conversation_id):
            return None
        return tuple(self.engine.suggest(conversation, text))

    async def _commit(self, live: Live, turn: Turn, rows: list[NewMessage]) -> Turn:
        after = turn.after
        if turn.suggestions and rows:
            # "Suggestions shown" are recorded on the row that prompted them (the input's row).
            rows[0] = replace(rows[0], suggestions=[s.to_dict() for s in turn.suggestions])
        ended_at = (live.ended_at or self.clock()) if after.ended else None  # a reopened conversation is open again
        agent = turn.agent or live.agent
        snapshot = ConversationSnapshot(
            state=after.state,
            slots=dict(after.slots),
            counters=dict(after.counters),
            mode=wire_mode(after.mode),
            ended_at=ended_at,
            agent=agent,
        )
        # Conditional on the seq this turn was stepped from: SeqConflict if another worker wrote.
        stored = await self.store.append(live.id, rows, snapshot, expected_last_seq=live.last_seq)
        if stored and stored[0].duplicate:
            # The store knew this client id though our copy did not track it: nothing is new.
            live.stale = True
            ack = acks(stored).get(stored[0].client_message_id or "", Ack(stored[0].seq, 0))
            return replace(turn, after=turn.before, duplicate_of=ack.seq, replies=ack.replies, suggestions=None)
        fresh = tuple(m for m in stored if not m.duplicate)
        if after.awaiting_agent and not turn.before.awaiting_agent and self.on_handoff is not None:
            self.on_handoff()
        live.conversation, live.ended_at, live.agent = after, ended_at, agent
        live.last_seq = max(live.last_seq, *(m.seq for m in fresh)) if fresh else live.last_seq
        live.acked.update(acks(fresh))
        turn = replace(turn, stored=fresh)
        deliveries = turn_deliveries(turn, agents=self.hub.watched(live.id))
        await self.hub.publish(live.id, deliveries, live.last_seq)
        if queue_worthy(turn):
            await self._tell_queue(live.id, turn, agent)
        if self.after_commit is not None and fresh:
            await self.after_commit(live.id, after, agent, fresh)
        return turn

    async def _tell_queue(self, conversation_id: str, turn: Turn, agent: str | None) -> None:
        """The agents' live queue (`/ws/queue`) hears of the turn, on every worker."""
        said = [m.text for m in turn.stored if m.role == Role.CUSTOMER]
        flow = self.engine.content.flows.get(turn.after.flow)
        if flow is None:
            return
        item = queue_item(conversation_id, turn.after, flow, agent=agent,
                          last_customer_text=said[-1] if said else None, at=self.clock())
        await self.hub.publish(QUEUE_CHANNEL, [Delivery("agent", encode(QueueItemFrame(item=item)))], 0)

    async def queue_snapshot(self, limit: int = 100) -> list[QueueItem]:
        """The open conversations, newest first, as the queue shows them (each with the customer's last line)."""
        page, _ = await self.store.list_conversations(limit=limit)
        items = []
        for stored in page:
            if stored.ended_at is not None:
                continue
            flow = self.engine.content.flows.get(stored.flow)
            messages = await self.store.messages(stored.id)
            if flow is None or not messages:
                continue
            conversation = Conversation.from_events(Event.from_dict(e) for m in messages for e in m.events)
            said = [m for m in messages if m.role == Role.CUSTOMER]
            items.append(queue_item(stored.id, conversation, flow, agent=stored.agent,
                                    last_customer_text=said[-1].text if said else None,
                                    at=said[-1].created_at if said else stored.updated_at))
        return items

    # ------------------------------------------------------------ customers

    async def start(
        self,
        *,
        flow: str | None,
        mode: str,
        channel: str,
        customer: dict[str, Any] | None,
        subscriber: Subscriber,
    ) -> Live:
        """Create, store and announce a new conversation; `subscriber` gets `started`, then the greeting."""
        name = flow or self.engine.default_flow
        definition = self.engine.content.flows.get(name)
        if definition is None:
            raise ApiError(
                "invalid_field",
                f"flow: unknown flow {name!r}; flows are: {', '.join(self.engine.content.flows)}",
            )
        if channel not in definition.channels:
            raise ApiError(
                "invalid_field", f"channel: flow {name!r} serves {', '.join(sorted(definition.channels))}"
            )
        slots: dict[str, str] = {}
        if customer and isinstance(customer.get("name"), str) and customer["name"].strip():
            slots["customer_name"] = customer["name"].strip()[:64]
        token, token_hash = new_customer_token()
        live = Live(uuid.uuid4().hex, token_hash=token_hash, stale=False)
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
                created_at=self.clock(),
            )
        )
        self._remember(live)
        async with live.lock:
            self.hub.subscribe(live.id, subscriber)
            try:
                await self._store_start(live, name, channel, mode, slots, subscriber.id, token)
            except BaseException:
                self.hub.unsubscribe(live.id, subscriber)
                live.stale = True
                raise
        return live

    async def _store_start(
        self,
        live: Live,
        flow: str,
        channel: str,
        mode: str,
        slots: dict[str, str],
        origin: str | None,
        token: str | None,
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
        head = Head(Role.SYSTEM, "conversation started")
        return await self._turn(live, [(event, head)], origin=origin, started_token=token)

    async def attach(
        self,
        conversation_id: str,
        subscriber: Subscriber,
        *,
        token: str | None,
        after_seq: int | None,
        on_attached: OnAttached,
    ) -> Live:
        """Subscribe to a conversation and read its messages after `after_seq`, with no gap between.

        `token` None means an authenticated agent; a customer must present the conversation's
        token. `on_attached(live, messages, more)` runs under the conversation's lock, so the frames it
        queues come before any frame of a later turn. The caller unsubscribes when it is done.
        """
        try:
            async with self._locked(conversation_id) as live:
                if token is not None and not customer_token_matches(token, live.token_hash):
                    raise Unauthorized("wrong token for this conversation")
                messages = (
                    []
                    if after_seq is None or after_seq >= live.last_seq
                    else await self.store.messages(live.id, after_seq, HISTORY_PAGE + 1)
                )
                self.hub.subscribe(conversation_id, subscriber)
                on_attached(live, messages[:HISTORY_PAGE], len(messages) > HISTORY_PAGE)
        except ConversationNotFound:
            if token is not None:  # a customer: an unknown id is answered like a wrong token (no probing)
                raise Unauthorized("wrong token for this conversation") from None
            raise
        return live

    async def history_page(self, conversation_id: str, after_seq: int, limit: int) -> tuple[list[StoredMessage], bool]:
        """Up to `limit` stored messages after `after_seq`, and whether more follow (a read: no lock)."""
        page = await self.store.messages(conversation_id, after_seq, limit + 1)
        return page[:limit], len(page) > limit

    async def customer_message(self, conversation_id: str, client_id: str, text: str, *, origin: str) -> Turn:
        """Store and answer a customer message; a resend of a stored `client_id` is only acked again."""

        async def turn(live: Live) -> Turn:
            if client_id in live.acked:
                return _acked_again(live, client_id, client_id, origin)
            event = CustomerSaid(text, client_id, self.clock())
            head = Head(Role.CUSTOMER, text, client_id)
            try:
                return await self._turn(
                    live, [(event, head)], origin=origin, ack=True, ack_id=client_id, suggest_for=text
                )
            except EngineError:
                # The script failed (a flow defect): keep the customer's words and ack them, then report.
                after = live.conversation.copy()
                after.apply(event)
                failed = Turn(live.id, live.conversation, after, origin=origin, ack=True, ack_id=client_id)
                await self._commit(live, failed, split_rows(live.conversation, [event], head, self.clock()))
                raise

        return await self._serialised(conversation_id, turn)

    async def rate(self, conversation_id: str, score: int, comment: str, client_id: str | None, *,
                   origin: str) -> Turn:
        """The customer's rating, stored as a system row of the transcript (acked) and as the conversation's
        rating; a resend of a stored `client_id` is only acked again."""
        key = f"rate:{client_id}" if client_id else None

        async def turn(live: Live) -> Turn:
            if key is not None and key in live.acked:
                return _acked_again(live, key, client_id, origin)
            event = RatingGiven(score, comment.strip(), self.clock())
            head = Head(Role.SYSTEM, f"customer rated {score}", key)
            return await self._turn(live, [(event, head)], origin=origin, ack=True, ack_id=client_id)

        return await self._serialised(conversation_id, turn)

    # ------------------------------------------------------------ agents

    async def agent_message(
        self,
        conversation_id: str,
        agent: str,
        text: str,
        *,
        phrase_id: str | None,
        client_id: str | None,
        origin: str,
    ) -> Turn:
        """An agent's message (taking a bot conversation over first)."""
        key = f"agent:{agent}:{client_id}" if client_id else None

        async def turn(live: Live) -> Turn:
            if key is not None and key in live.acked:
                return _acked_again(live, key, client_id, origin, agent)
            now = self.clock()
            inputs: list[tuple[Event, Head]] = []
            if live.conversation.mode == "bot":
                inputs.append((ModeChanged(Mode.ASSIST, agent, now), Head(Role.SYSTEM, f"{agent} took over")))
            inputs.append((AgentSaid(text, phrase_id, agent, now), Head(Role.AGENT, text, key, phrase_id)))
            return await self._turn(
                live, inputs, origin=origin, ack=True, ack_id=client_id, agent=agent, suggest_for=""
            )

        return await self._serialised(conversation_id, turn)

    async def set_slot(self, conversation_id: str, agent: str, name: str, value: str, *, origin: str) -> Turn:
        async def turn(live: Live) -> Turn:
            inputs = [(SlotSet(name, value), Head(Role.SYSTEM, f"{agent} set {name}"))]
            return await self._turn(live, inputs, origin=origin, agent=agent, suggest_for="")

        return await self._serialised(conversation_id, turn)

    async def goto(self, conversation_id: str, agent: str, state: str, *, origin: str) -> Turn:
        async def turn(live: Live) -> Turn:
            flow = self.engine.content.flows[live.conversation.flow]
            if state not in flow.states:
                raise ApiError(
                    "unknown_state",
                    f"flow {flow.name!r} has no state {state!r}; states: {', '.join(flow.states)}",
                )
            inputs = [
                (GotoRequested(state, agent, self.clock()), Head(Role.SYSTEM, f"{agent} moved to {state}"))
            ]
            return await self._turn(live, inputs, origin=origin, agent=agent, suggest_for="")

        return await self._serialised(conversation_id, turn)

    async def set_mode(self, conversation_id: str, agent: str, mode: str, *, origin: str) -> Turn:
        """`takeover` (engine mode assist) or `release` (bot); stores nothing when it already is so."""

        async def turn(live: Live) -> Turn:
            current = live.conversation
            if current.mode == mode and not current.awaiting_agent:
                return Turn(live.id, current, current, origin=origin, agent=agent)
            what = "took over" if mode == "assist" else "released the conversation to the bot"
            inputs = [(ModeChanged(mode, agent, self.clock()), Head(Role.SYSTEM, f"{agent} {what}"))]
            return await self._turn(live, inputs, origin=origin, agent=agent, suggest_for="")

        return await self._serialised(conversation_id, turn)

    def suggestions_now(self, live: Live) -> tuple[Suggestion, ...]:
        """What fits where the conversation is (the agent sidebar's first suggestions)."""
        return tuple(self.engine.suggest(live.conversation, ""))


def _acked_again(live: Live, key: str, ack_id: str | None, origin: str, agent: str | None = None) -> Turn:
    """A resend of a stored message: the same ack again, and nothing stepped or stored."""
    return Turn(
        live.id,
        live.conversation,
        live.conversation,
        duplicate_of=live.acked[key].seq,
        replies=live.acked[key].replies,
        origin=origin,
        ack=True,
        ack_id=ack_id,
        agent=agent,
    )
