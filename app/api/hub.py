"""Fan-out of a conversation's frames to every socket connected to it, here or on other workers.

`Hub` delivers in-process. `RedisHub` also publishes each batch on one Redis pub/sub channel
and delivers what other workers publish, so a customer on worker A and an agent on worker B see
each other. Each batch carries the conversation's last stored `seq`, which is also how other
workers learn that their cached copy of the conversation is stale (`on_remote_change`).

One channel for all conversations keeps the bus simple (one SUBSCRIBE per worker, ordered per
publisher); every worker sees every batch, which is fine for the tens of workers this targets.
Publishing is best effort: the frames are already durable, and a client that missed one gets
it back with `resume`. It never makes a turn wait on Redis: `publish` queues the batch and one
task per worker sends whatever is queued in one pipeline (one round trip, one connection, in
order), so a burst of turns neither holds conversation locks on Redis round trips nor runs out
of the client's connection pool (redis-py refuses a 101st concurrent command by default).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

log = logging.getLogger(__name__)

Audience = Literal["customer", "agent", "all"]
RECONNECT_DELAY_S = (0.1, 0.5, 1.0, 2.0, 5.0)
OUTBOX_LIMIT = 50_000  # batches queued for the bus while Redis is slow; beyond that they are dropped
PIPELINE_LIMIT = 500  # batches sent in one round trip


@dataclass(frozen=True, slots=True)
class Delivery:
    """One encoded frame for the sockets of a conversation.

    `only`: just this connection (an ack to its sender); `skip`: everyone but this connection
    (the sender already has an ack); `seq`: the stored message the frame shows, if any.
    """

    audience: Audience
    text: str
    seq: int | None = None
    only: str | None = None
    skip: str | None = None


class Subscriber(Protocol):
    id: str
    audience: Literal["customer", "agent"]

    def deliver(self, delivery: Delivery) -> None:
        """Queue the frame for sending; must not block."""


RemoteChange = Callable[[str | None, int], None]  # conversation id (None: all), last seq
RemoteReload = Callable[[], None]  # another worker reloaded the pack (app/api/reload.py)


class Hub:
    """In-process fan-out (one worker)."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscriber]] = {}
        self.on_remote_change: RemoteChange | None = None
        self.on_remote_reload: RemoteReload | None = None
        # The bus between workers is down (RedisHub): frames for sockets on other workers do not arrive.
        self.degraded = False
        self.on_degraded: Callable[[], None] | None = None
        self.on_recovered: Callable[[], Coroutine[Any, Any, None]] | None = None

    def local_subscribers(self) -> dict[str, tuple[Subscriber, ...]]:
        """The sockets of this worker, by conversation."""
        return {cid: tuple(subs) for cid, subs in self._subscribers.items() if subs}

    async def start(self) -> None:
        return None

    def announce_reload(self) -> None:
        """Tell the other workers that this one reloaded the pack (one worker: nobody to tell)."""
        return None

    async def close(self) -> None:
        return None

    def subscribe(self, conversation_id: str, subscriber: Subscriber) -> None:
        self._subscribers.setdefault(conversation_id, set()).add(subscriber)

    def unsubscribe(self, conversation_id: str, subscriber: Subscriber) -> None:
        subscribers = self._subscribers.get(conversation_id)
        if subscribers is not None:
            subscribers.discard(subscriber)
            if not subscribers:
                del self._subscribers[conversation_id]

    def watched(self, conversation_id: str) -> bool:
        """Could an agent be looking at this conversation (so suggestions are worth computing)?"""
        return any(s.audience == "agent" for s in self._subscribers.get(conversation_id, ()))

    async def publish(self, conversation_id: str, deliveries: Sequence[Delivery], last_seq: int) -> None:
        self.dispatch(conversation_id, deliveries)

    def dispatch(self, conversation_id: str, deliveries: Sequence[Delivery]) -> None:
        for subscriber in tuple(self._subscribers.get(conversation_id, ())):
            for delivery in deliveries:
                if delivery.only is not None and delivery.only != subscriber.id:
                    continue
                if delivery.skip is not None and delivery.skip == subscriber.id:
                    continue
                if delivery.audience in ("all", subscriber.audience):
                    subscriber.deliver(delivery)


class RedisHub(Hub):
    """In-process fan-out plus a Redis pub/sub bus between workers."""

    def __init__(self, client: Any, *, channel: str) -> None:
        super().__init__()
        self._client = client
        self._channel = channel
        self.worker_id = uuid.uuid4().hex
        self._listener: asyncio.Task[None] | None = None
        self._publisher: asyncio.Task[None] | None = None
        self._outbox: asyncio.Queue[str] = asyncio.Queue(OUTBOX_LIMIT)
        self._ready = asyncio.Event()
        self.dropped = 0  # batches not sent: the outbox was full or Redis failed
        self.lag_seconds = 0.0  # summed publish → receive delay of the batches other workers sent
        self.lag_count = 0
        self._recovery: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._client.ping()  # fail at start-up, not on the first message
        self._listener = asyncio.create_task(self._listen(), name="huashu-redis-bus")
        self._publisher = asyncio.create_task(self._publish_queued(), name="huashu-redis-publisher")
        await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def close(self) -> None:
        if self._publisher is not None:
            try:  # what the last turns published still reaches the other workers
                await asyncio.wait_for(self._outbox.join(), timeout=5)
            except TimeoutError:
                log.warning("redis bus: %d batches not sent at shutdown", self._outbox.qsize())
        for task in (self._publisher, self._listener):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def watched(self, conversation_id: str) -> bool:
        return True  # an agent may be connected to another worker

    async def publish(self, conversation_id: str, deliveries: Sequence[Delivery], last_seq: int) -> None:
        self.dispatch(conversation_id, deliveries)
        remote = [[d.audience, d.text, d.seq, d.skip] for d in deliveries if d.only is None]
        payload = json.dumps({"w": self.worker_id, "c": conversation_id, "s": last_seq, "d": remote, "t": time.time()})
        try:
            self._outbox.put_nowait(payload)
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning("redis bus outbox full; batch for conversation %s dropped", conversation_id)

    def announce_reload(self) -> None:
        try:
            self._outbox.put_nowait(json.dumps({"w": self.worker_id, "reload": True}))
        except asyncio.QueueFull:
            log.warning("redis bus outbox full; the other workers were not told to reload the pack")

    async def _publish_queued(self) -> None:
        """Send queued batches, everything waiting in one pipeline, in the order they were queued."""
        while True:
            batch = [await self._outbox.get()]
            while len(batch) < PIPELINE_LIMIT and not self._outbox.empty():
                batch.append(self._outbox.get_nowait())
            try:
                pipeline = self._client.pipeline(transaction=False)
                for payload in batch:
                    pipeline.publish(self._channel, payload)
                await pipeline.execute()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the bus is best effort; the store has everything
                self.dropped += len(batch)
                log.warning("redis publish of %d batches failed: %s", len(batch), exc)
                self._set_degraded()
            finally:
                for _ in batch:
                    self._outbox.task_done()

    async def _listen(self) -> None:
        attempt = 0
        while True:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                if attempt or self.degraded:
                    # We may have missed invalidations while disconnected: distrust every cached copy,
                    # then give this worker's sockets what they missed (from the store).
                    self._remote_change(None, 0)
                    self._set_recovered()
                attempt = 0
                self._ready.set()
                while True:
                    message = await pubsub.get_message(timeout=5.0)
                    if message is not None and message.get("type") == "message":
                        self._receive(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep the bus alive across Redis restarts
                self._set_degraded()
                delay = RECONNECT_DELAY_S[min(attempt, len(RECONNECT_DELAY_S) - 1)]
                attempt += 1
                log.warning("redis bus disconnected (%s); reconnecting in %.1fs", exc, delay)
                await asyncio.sleep(delay)
            finally:
                try:
                    await pubsub.aclose()
                except Exception as exc:  # noqa: BLE001 - already broken; nothing to release
                    log.debug("closing a broken pubsub: %s", exc)

    def _set_degraded(self) -> None:
        if not self.degraded:
            self.degraded = True
            log.warning("redis bus degraded: frames to sockets on other workers are held back until it is back")
            if self.on_degraded is not None:
                self.on_degraded()

    def _set_recovered(self) -> None:
        if self.degraded:
            self.degraded = False
            log.warning("redis bus recovered: sending this worker's sockets what they missed")
            if self.on_recovered is not None:
                self._recovery = asyncio.create_task(self.on_recovered(), name="huashu-bus-recovery")

    def _receive(self, data: bytes | str) -> None:
        try:
            batch = json.loads(data)
            if batch["w"] == self.worker_id:
                return
            if batch.get("reload") is True:
                if self.on_remote_reload is not None:
                    self.on_remote_reload()
                return
            conversation_id = str(batch["c"])
            if isinstance(batch.get("t"), int | float):  # publish → receive, across workers (clocks of one host)
                self.lag_seconds += max(0.0, time.time() - batch["t"])
                self.lag_count += 1
            self._remote_change(conversation_id, int(batch["s"]))
            deliveries = [
                Delivery(audience, text, seq, skip=skip) for audience, text, seq, skip in batch["d"]
            ]
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring malformed bus message: %s", exc)
            return
        self.dispatch(conversation_id, deliveries)

    def _remote_change(self, conversation_id: str | None, last_seq: int) -> None:
        if self.on_remote_change is not None:
            self.on_remote_change(conversation_id, last_seq)
