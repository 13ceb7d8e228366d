"""Two server instances sharing a database and the local Redis: a customer on one and an agent on the
other see each other, cached conversations follow the other worker's writes, tickets are single-use
across workers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.server import Client, Server, ws_client
from tests.api.wire import ALICE, of_type, only

pytestmark = [pytest.mark.server, pytest.mark.redis, pytest.mark.timeout(120)]

@pytest.fixture(scope="module")
def workers(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    workdir: Path = tmp_path_factory.mktemp("bus")
    database = f"sqlite:///{workdir / 'huashu.db'}"
    # A prefix of our own: other test runs on the same Redis must not hear this one.
    env = {"HUASHU_REDIS_URL": redis_url, "HUASHU_REDIS_PREFIX": f"huashu-test-{uuid.uuid4().hex[:8]}"}
    first = Server(database, workdir, env=env).start()
    second = Server(database, workdir, env=env).start()
    yield first, second
    first.stop()
    second.stop()


async def receive_until(client: Client, kind: str, limit: int = 20) -> list[dict[str, object]]:
    frames = []
    for _ in range(limit):
        frames.append(await client.receive())
        if frames[-1]["type"] == kind:
            return frames
    raise AssertionError(f"no {kind!r} frame in {frames}")


async def test_customer_on_one_worker_and_agent_on_another_see_each_other(
    workers: tuple[Server, Server],
) -> None:
    a, b = workers
    async with ws_client(f"{a.ws}/ws/chat") as customer:
        conversation_id = only(await customer.exchange({"type": "start"}), "started")["conversation_id"]
        async with ws_client(f"{b.ws}/ws/assist/{conversation_id}", additional_headers=ALICE) as agent:
            assert (await agent.receive())["type"] == "snapshot"
            await agent.barrier()
            ack = only(await customer.exchange({"type": "message", "id": "c-1", "text": "我想退货"}), "ack")
            # Worker B hears worker A's turn over Redis: the message, the bot's answer, suggestions.
            # (No ping barrier here: B's pong could overtake frames still on their way from A.)
            frames = await receive_until(agent, "suggestions")
            message = only(frames, "customer_message")
            assert message == {**message, "seq": ack["seq"], "text": "我想退货"}
            assert of_type(frames, "reply")
            sent = only(
                await agent.exchange(
                    {"type": "message", "id": "a-1", "text": "您好,我是人工客服,马上为您处理。"}
                ),
                "ack",
            )
        frames = await receive_until(customer, "agent_message")
        status, received = of_type(frames, "status")[-1], frames[-1]
        assert (status["type"], status["mode"]) == ("status", "human")
        assert received == {
            "type": "agent_message",
            "seq": sent["seq"],
            "text": "您好,我是人工客服,马上为您处理。",
        }
        # Worker A learnt that B took the conversation over: its bot stays quiet now.
        after = await customer.exchange({"type": "message", "id": "c-2", "text": "好的,谢谢"})
    assert [f["type"] for f in after] == ["ack"] and after[0]["seq"] > sent["seq"]


async def test_a_ticket_from_one_worker_opens_the_other_once(workers: tuple[Server, Server]) -> None:
    a, b = workers
    async with ws_client(f"{a.ws}/ws/chat") as customer:
        conversation_id = only(await customer.exchange({"type": "start"}), "started")["conversation_id"]
    async with httpx.AsyncClient() as http:
        ticket = (await http.post(f"{a.http}/api/agent/tickets", headers=ALICE)).json()["ticket"]
    async with ws_client(f"{b.ws}/ws/assist/{conversation_id}?ticket={ticket}") as agent:
        assert (await agent.receive())["type"] == "snapshot"
    async with ws_client(f"{a.ws}/ws/assist/{conversation_id}?ticket={ticket}") as replay:
        error = await replay.receive()
    assert error["code"] == "unauthorized" and "already used" in error["message"]


async def test_resume_on_the_other_worker_continues_the_conversation(workers: tuple[Server, Server]) -> None:
    a, b = workers
    async with ws_client(f"{a.ws}/ws/chat") as customer:
        started = only(await customer.exchange({"type": "start"}), "started")
        await customer.exchange({"type": "message", "id": "c-1", "text": "我的快递到哪了"})
    async with ws_client(f"{b.ws}/ws/chat") as moved:
        resumed = await moved.exchange(
            {"type": "resume", "conversation_id": started["conversation_id"], "token": started["token"]}
        )
        assert only(resumed, "started")["state"] == "ask_order_id"
        answer = await moved.exchange({"type": "message", "id": "c-2", "text": "订单号是202611200003"})
    assert any("中通快递" in f["text"] for f in of_type(answer, "reply"))
