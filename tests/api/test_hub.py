"""`RedisHub` on the local Redis: what one worker publishes reaches the others, in order, however
many turns publish at once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio

from app.api.hub import Delivery, RedisHub
from tests.api.wire import Recorder

pytestmark = [pytest.mark.redis, pytest.mark.timeout(60)]

@pytest.fixture
async def hubs(redis_url: str) -> AsyncIterator[tuple[RedisHub, RedisHub]]:
    channel = f"huashu-test-{uuid.uuid4().hex[:8]}:bus"  # other runs on the same Redis must not hear this one
    clients = [redis.asyncio.from_url(redis_url) for _ in range(2)]  # as each worker builds its own
    pair = (RedisHub(clients[0], channel=channel), RedisHub(clients[1], channel=channel))
    for hub in pair:
        await hub.start()
    yield pair
    for hub in pair:
        await hub.close()
    for client in clients:
        await client.aclose()


async def test_a_burst_of_turns_reaches_the_other_worker_in_order(hubs: tuple[RedisHub, RedisHub]) -> None:
    """1,000 turns publishing at once: more than the client's connection pool (100) would allow if
    each turn sent its own command."""
    here, there = hubs
    listener = Recorder(id="agent-socket", audience="agent")
    there.subscribe("c1", listener)
    sent = [f'{{"type":"reply","seq":{n}}}' for n in range(1, 1001)]

    await asyncio.gather(*(here.publish("c1", [Delivery("all", text, n)], n) for n, text in enumerate(sent, 1)))
    for _ in range(200):
        if len(listener.texts) == len(sent):
            break
        await asyncio.sleep(0.05)

    assert listener.texts == sent
    assert here.dropped == 0


async def test_a_worker_hears_that_its_copy_is_stale(hubs: tuple[RedisHub, RedisHub]) -> None:
    here, there = hubs
    heard: list[tuple[str | None, int]] = []
    there.on_remote_change = lambda conversation_id, last_seq: heard.append((conversation_id, last_seq))
    here.on_remote_change = lambda conversation_id, last_seq: heard.append(("self?", last_seq))

    await here.publish("c9", [Delivery("all", "{}", 7)], 7)
    for _ in range(100):
        if heard:
            break
        await asyncio.sleep(0.05)

    assert heard == [("c9", 7)]  # the other worker only: a worker ignores its own batches


async def test_what_is_queued_at_close_is_still_sent(hubs: tuple[RedisHub, RedisHub]) -> None:
    here, there = hubs
    listener = Recorder(id="agent-socket", audience="agent")
    there.subscribe("c2", listener)
    for n in range(50):
        await here.publish("c2", [Delivery("all", str(n), n)], n)
    await here.close()  # flushes the outbox before it stops
    for _ in range(100):
        if len(listener.texts) == 50:
            break
        await asyncio.sleep(0.05)
    assert listener.texts == [str(n) for n in range(50)]
