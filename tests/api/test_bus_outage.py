"""A Redis outage with two workers (issue 16 item 4): both sides are told while the bus is down, /healthz
says so, tickets still open conversations, and what crossed workers during the outage is delivered from the
store once Redis is back. A redis-server of the test's own, on a port of its own, is killed and restarted."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests.api.server import Client, Server, free_port, ws_client
from tests.api.wire import ALICE, only

pytestmark = [pytest.mark.server, pytest.mark.redis, pytest.mark.timeout(180)]


class RedisProcess:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisProcess:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping()
                return self
            except redis.RedisError:
                time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def bus(redis_url: str, tmp_path: Path) -> Iterator[tuple[RedisProcess, Server, Server]]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    own = RedisProcess(tmp_path).start()
    database = f"sqlite:///{tmp_path / 'huashu.db'}"
    env = {"HUASHU_REDIS_URL": own.url, "HUASHU_REDIS_PREFIX": f"outage-{uuid.uuid4().hex[:8]}"}
    first = Server(database, tmp_path, env=env).start()
    second = Server(database, tmp_path, env=env).start()
    yield own, first, second
    first.stop()
    second.stop()
    own.kill()


async def frames_until(client: Client, wanted: Any, seconds: float) -> list[dict[str, Any]]:
    """Frames until one satisfies `wanted` (or fail after `seconds`)."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            frame = await asyncio.wait_for(client.receive(), timeout=max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            break
        seen.append(frame)
        if wanted(frame):
            return seen
    raise AssertionError(f"not seen within {seconds}s; got {seen}")


async def health(server: Server) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        return dict((await http.get(f"{server.http}/healthz")).json())


async def test_an_outage_is_told_and_what_was_missed_arrives_after_it(
    bus: tuple[RedisProcess, Server, Server],
) -> None:
    own, a, b = bus
    async with ws_client(f"{a.ws}/ws/chat") as customer:
        started = only(await customer.exchange({"type": "start", "mode": "human"}), "started")
        conversation_id = started["conversation_id"]
        async with ws_client(f"{b.ws}/ws/assist/{conversation_id}", additional_headers=ALICE) as agent:
            assert (await agent.receive())["type"] == "snapshot"
            await agent.barrier()

            own.kill()
            # The customer's worker finds out when it publishes; the agent's when its listener drops.
            acked = await customer.exchange({"type": "message", "id": "c-1", "text": "还在吗?我要退货"})
            assert only(acked, "ack")["id"] == "c-1"  # stored on A: nothing the customer said is lost
            if not any(f["type"] == "notice" and f["code"] == "degraded" for f in acked):
                await frames_until(customer, lambda f: f["type"] == "notice" and f["code"] == "degraded", 15)
            missed = await frames_until(agent, lambda f: f["type"] == "notice" and f["code"] == "degraded", 15)
            assert not [f for f in missed if f["type"] == "customer_message"]  # held up, as the notice says
            assert (await health(a))["bus_status"] == "degraded" and (await health(b))["status"] == "degraded"

            # Tickets still open conversations while Redis is down (this worker remembers them).
            async with httpx.AsyncClient() as http:
                ticket = (await http.post(f"{b.http}/api/agent/tickets", headers=ALICE,
                                          json={"conversation_id": conversation_id})).json()["ticket"]
            async with ws_client(f"{b.ws}/ws/assist/{conversation_id}?ticket={ticket}") as second_agent:
                assert (await second_agent.receive())["type"] == "snapshot"

            own.start()  # the same port: both workers reconnect
            after = await frames_until(agent, lambda f: f["type"] == "notice" and f["code"] == "recovered", 30)
            history = [f for f in after if f["type"] == "history"]
            assert history and any(m["text"] == "还在吗?我要退货" for m in history[0]["messages"])
            await frames_until(customer, lambda f: f["type"] == "notice" and f["code"] == "recovered", 30)
            assert (await health(a))["bus_status"] == "ok" and (await health(b))["bus_status"] == "ok"

            # And the bus carries new frames again.
            await customer.send({"type": "message", "id": "c-2", "text": "好的"})
            await frames_until(agent, lambda f: f["type"] == "customer_message" and f["text"] == "好的", 15)
