"""`RedisHub` on the local Redis: what one worker publishes reaches the others, in order, however
many turns publish at once."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal

import pytest
import redis
import redis.asyncio

from app.api.hub import Delivery, RedisHub

pytestmark = [pytest.mark.redis, pytest.mark.timeout(60)]

REDIS_URL = os.environ.get("HUASHU_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass(eq=False)
class Listener:
    id: str = "agent-socket"
    audience: Literal["customer", "agent"] = "agent"
    got: list[str] = field(default_factory=list)

    def deliver(self, delivery: Delivery) -> None:
        self.got.append(delivery.text)


@pytest.fixture
async def hubs() -> AsyncIterator[tuple[RedisHub, RedisHub]]:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        message = f"Redis at {REDIS_URL} is unreachable ({exc}); start it or set HUASHU_TEST_REDIS_URL"
        if os.environ.get("HUASHU_REQUIRE_REDIS") == "1":
            pytest.fail(f"HUASHU_REQUIRE_REDIS=1 but {message}", pytrace=False)
        pytest.skip(message)
    channel = f"huashu-test-{uuid.uuid4().hex[:8]}:bus"  # other runs on the same Redis must not hear this one
    clients = [redis.asyncio.from_url(REDIS_URL) for _ in range(2)]  # as each worker builds its own
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
    listener = Listener()
    there.subscribe("c1", listener)
    sent = [f'{{"type":"reply","seq":{n}}}' for n in range(1, 1001)]

    await asyncio.gather(*(here.publish("c1", [Delivery("all", text, n)], n) for n, text in enumerate(sent, 1)))
    for _ in range(200):
        if len(listener.got) == len(sent):
            break
        await asyncio.sleep(0.05)

    assert listener.got == sent
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
    listener = Listener()
    there.subscribe("c2", listener)
    for n in range(50):
        await here.publish("c2", [Delivery("all", str(n), n)], n)
    await here.close()  # flushes the outbox before it stops
    for _ in range(100):
        if len(listener.got) == 50:
            break
        await asyncio.sleep(0.05)
    assert listener.got == [str(n) for n in range(50)]
