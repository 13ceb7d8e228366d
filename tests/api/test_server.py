"""Against a real `huashu serve` (uvicorn) on 127.0.0.1, with the `websockets` client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from app.storage.migrate import upgrade
from tests.api.server import Client, Server, ws_client
from tests.api.wire import ALICE, of_type, only

pytestmark = [pytest.mark.server, pytest.mark.timeout(120)]
MAX_FRAME_BYTES = 4096


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("server")
    if request.param == "postgres":
        make_database: Callable[[], str] = request.getfixturevalue("postgres_databases")
        url = make_database()
        upgrade(url)  # `huashu db upgrade`: the server refuses an unmigrated PostgreSQL
    else:
        url = f"sqlite:///{workdir / 'huashu.db'}"
    running = Server(url, workdir, env={"HUASHU_MAX_FRAME_BYTES": str(MAX_FRAME_BYTES)}).start()
    yield running
    running.stop()


async def start(client: Client, **frame: object) -> dict[str, object]:
    return only(await client.exchange({"type": "start", **frame}), "started")


def stages(frames: list[dict[str, object]]) -> list[str]:
    return [str(f["phrase_id"]).split(".")[0] for f in of_type(frames, "reply")]


async def test_frame_over_the_size_limit_is_told_too_large_then_closed_with_1009(server: Server) -> None:
    async with ws_client(f"{server.ws}/ws/chat") as client:
        await start(client)
        await client.send({"type": "message", "id": "big", "text": "x" * (2 * MAX_FRAME_BYTES)})
        frames = []
        with pytest.raises(ConnectionClosed) as closed:
            for _ in range(10):
                frames.append(await client.receive())
    assert [f["code"] for f in frames if f["type"] == "error"] == ["too_large"]  # the documented frame, first
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


async def test_a_frame_far_over_the_limit_is_cut_by_the_server_with_1009(server: Server) -> None:
    async with ws_client(f"{server.ws}/ws/chat") as client:
        await start(client)
        await client.send({"type": "message", "id": "huge", "text": "x" * (8 * MAX_FRAME_BYTES)})
        with pytest.raises(ConnectionClosed) as closed:
            for _ in range(10):
                await client.receive()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


async def test_bot_conversation_end_to_end(server: Server) -> None:
    async with ws_client(f"{server.ws}/ws/chat") as client:
        frames = await client.exchange({"type": "start"})
        assert stages(frames) == ["greeting"]
        question = await client.exchange(
            {"type": "message", "id": "c-1", "text": "请问七天无理由退货怎么办理?"}
        )
        assert question[0]["type"] == "ack" and stages(question) == ["answer", "close-check"]
        assert "7天" in of_type(question, "reply")[0]["text"]
        goodbye = await client.exchange({"type": "message", "id": "c-2", "text": "没有了,谢谢"})
    assert stages(goodbye) == ["farewell", "survey"]  # goodbye, then the request for a rating
    assert only(goodbye, "status")["ended"] is True


async def test_where_is_my_parcel_is_answered_from_the_demo_orders_table(server: Server) -> None:
    async with ws_client(f"{server.ws}/ws/chat") as client:
        await start(client)
        frames = await client.exchange(
            {"type": "message", "id": "c-1", "text": "我的快递到哪了,订单号202611180001"}
        )
    answer = of_type(frames, "reply")[1]
    assert answer["phrase_id"].startswith("answer.")
    assert (
        "运输中" in answer["text"] and "SF1402658823115" in answer["text"] and "2026-11-24" in answer["text"]
    )


async def test_reconnect_and_resume_with_last_seq_returns_the_history(server: Server) -> None:
    async with ws_client(f"{server.ws}/ws/chat") as client:
        frames = await client.exchange({"type": "start"})
        started, greeting = only(frames, "started"), only(frames, "reply")
        answered = await client.exchange({"type": "message", "id": "c-1", "text": "你好"})
    # The socket is gone (as when a phone switches networks); the conversation is not.
    async with ws_client(f"{server.ws}/ws/chat") as again:
        resumed = await again.exchange(
            {
                "type": "resume",
                "conversation_id": started["conversation_id"],
                "token": started["token"],
                "last_seq": greeting["seq"],
            }
        )
        assert [f["type"] for f in resumed] == ["started", "history"]
        assert resumed[0]["conversation_id"] == started["conversation_id"]
        history = resumed[1]["messages"]
        assert [m["seq"] for m in history] == [f["seq"] for f in answered]
        assert [m["role"] for m in history] == ["customer", "bot"] and history[0]["id"] == "c-1"
        # And the conversation goes on where it was.
        assert only(await again.exchange({"type": "message", "id": "c-2", "text": "没有了,谢谢"}), "ack")


async def test_duplicate_resend_after_reconnect_gets_the_same_ack_and_one_row(server: Server) -> None:
    question = {"type": "message", "id": "c-1", "text": "我的快递到哪了,订单号202611150002"}
    async with ws_client(f"{server.ws}/ws/chat") as client:
        started = await start(client)
        ack = (await client.exchange(question))[0]
    async with ws_client(f"{server.ws}/ws/chat") as again:
        await again.exchange(
            {"type": "resume", "conversation_id": started["conversation_id"], "token": started["token"]}
        )
        assert await again.exchange(question) == [ack]
    async with httpx.AsyncClient() as http:
        answer = await http.get(
            f"{server.http}/api/conversations/{started['conversation_id']}", headers=ALICE
        )
    stored = answer.json()["messages"]
    assert [m["client_message_id"] for m in stored].count("c-1") == 1
    assert [m["role"] for m in stored].count("customer") == 1


async def test_agent_sidebar_gets_suggestions_and_answers_a_human_mode_customer(server: Server) -> None:
    async with ws_client(f"{server.ws}/ws/chat") as customer:
        started = await start(customer, mode="human")
        conversation_id = started["conversation_id"]
        # The browser way in: a single-use ticket, as the sidebar page does it.
        async with httpx.AsyncClient() as http:
            ticket = await http.post(
                f"{server.http}/api/agent/tickets", headers=ALICE, json={"conversation_id": conversation_id}
            )
        async with ws_client(
            f"{server.ws}/ws/assist/{conversation_id}?ticket={ticket.json()['ticket']}"
        ) as agent:
            snapshot = await agent.receive()
            assert (snapshot["type"], snapshot["mode"]) == ("snapshot", "human")
            await agent.barrier()
            ack = only(
                await customer.exchange({"type": "message", "id": "c-1", "text": "我想退货,怎么办理?"}), "ack"
            )
            seen = await agent.barrier()
            assert only(seen, "customer_message") == {
                "type": "customer_message",
                "seq": ack["seq"],
                "text": "我想退货,怎么办理?",
                "id": "c-1",
                "intent": "return_refund",
            }
            suggestion = only(seen, "suggestions")["items"][0]
            answer = await agent.exchange(
                {
                    "type": "message",
                    "id": "a-1",
                    "text": suggestion["text"],
                    "phrase_id": suggestion["phrase_id"],
                }
            )
            agent_ack = only(answer, "ack")
        received = await customer.barrier()
    assert received == [{"type": "agent_message", "seq": agent_ack["seq"], "text": suggestion["text"]}]


async def test_agent_with_a_bearer_header_and_without_one(server: Server) -> None:
    async with ws_client(f"{server.ws}/ws/chat") as customer:
        conversation_id = (await start(customer))["conversation_id"]
    async with ws_client(f"{server.ws}/ws/assist/{conversation_id}", additional_headers=ALICE) as agent:
        assert (await agent.receive())["type"] == "snapshot"
    async with ws_client(f"{server.ws}/ws/assist/{conversation_id}") as stranger:
        assert (await stranger.receive())["code"] == "unauthorized"
        with pytest.raises(ConnectionClosed) as closed:
            await stranger.receive()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


def test_openapi_and_rest_are_served(server: Server) -> None:
    assert httpx.get(f"{server.http}/openapi.json").status_code == 200
    assert httpx.get(f"{server.http}/api/flows/default", params={"format": "mermaid"}).text.startswith(
        "stateDiagram-v2"
    )
    assert Path(server.log).exists()
