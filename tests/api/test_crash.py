"""SIGKILL the server in the middle of a burst: every acked message is in the database after restart."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from tests.api.server import Server, ws_client
from tests.api.wire import only

pytestmark = [pytest.mark.server, pytest.mark.slow, pytest.mark.timeout(180)]

CONNECTIONS = 8
MESSAGES = 250  # per connection, sent back to back without waiting for acks
KILL_AFTER_ACKS = 400


async def burst(
    server: Server,
    number: int,
    acked: dict[tuple[str, str], int],
    enough: asyncio.Event,
    started: dict[int, dict[str, str]],
) -> None:
    """Start a conversation, then fire MESSAGES messages and record every ack, until the server dies."""
    try:
        async with ws_client(f"{server.ws}/ws/chat") as client:
            frame = only(await client.exchange({"type": "start"}), "started")
            started[number] = frame  # keyed by connection: starts complete in any order
            conversation_id = frame["conversation_id"]

            async def read_acks() -> None:
                while True:
                    incoming = await client.receive()
                    if incoming["type"] == "ack":
                        acked[(conversation_id, incoming["id"])] = incoming["seq"]
                        if len(acked) >= KILL_AFTER_ACKS:
                            enough.set()

            reader = asyncio.create_task(read_acks())
            for n in range(MESSAGES):
                await client.send(
                    {"type": "message", "id": f"m{number}-{n}", "text": "你好" if n % 2 else "在吗"}
                )
            await reader
    except (ConnectionClosed, OSError, TimeoutError):
        return  # the server was killed under us: that is the point


def stored_ids(database: Path) -> dict[tuple[str, str], int]:
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT conversation_id, client_message_id, seq FROM messages WHERE role = 'customer'"
        ).fetchall()
    return {(cid, client_id): seq for cid, client_id, seq in rows}


async def test_every_acked_message_is_stored_after_sigkill_and_restart(tmp_path: Path) -> None:
    database = tmp_path / "huashu.db"
    server = Server(f"sqlite:///{database}", tmp_path).start()
    acked: dict[tuple[str, str], int] = {}
    started: dict[int, dict[str, str]] = {}
    enough = asyncio.Event()
    talkers = [asyncio.create_task(burst(server, n, acked, enough, started)) for n in range(CONNECTIONS)]
    try:
        await asyncio.wait_for(enough.wait(), 60)
        server.kill()  # mid-burst: acks are still arriving and messages still being sent
        acked_at_kill = dict(acked)
        await asyncio.wait_for(asyncio.gather(*talkers), 30)
    finally:
        server.kill()
    acked_at_kill.update(acked)  # acks that were already on the wire when the process died
    sent = CONNECTIONS * MESSAGES
    assert KILL_AFTER_ACKS <= len(acked_at_kill) < sent, "the kill must land in the middle of the burst"

    restarted = Server(f"sqlite:///{database}", tmp_path).start()
    try:
        stored = stored_ids(database)
        missing = {key: seq for key, seq in acked_at_kill.items() if stored.get(key) != seq}
        assert missing == {}, f"{len(missing)} acked messages lost or moved, e.g. {list(missing.items())[:3]}"

        # Clients resend what was never acked; already stored messages are acked again, never duplicated.
        # Resend the ids of the connection that started this conversation (not necessarily connection 0).
        number, frame = min(started.items())
        async with ws_client(f"{restarted.ws}/ws/chat") as client:
            await client.exchange(
                {"type": "resume", "conversation_id": frame["conversation_id"], "token": frame["token"]}
            )
            for n in range(MESSAGES):
                key = (frame["conversation_id"], f"m{number}-{n}")
                ack = only(await client.exchange({"type": "message", "id": key[1], "text": "在吗"}), "ack")
                if key in acked_at_kill:
                    assert ack["seq"] == acked_at_kill[key]
    finally:
        restarted.stop()
    after = stored_ids(database)
    assert len([key for key in after if key[0] == frame["conversation_id"]]) == MESSAGES
    with sqlite3.connect(database) as db:
        duplicates = db.execute(
            "SELECT count(*) FROM (SELECT conversation_id, client_message_id FROM messages "
            "WHERE client_message_id IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1)"
        ).fetchone()[0]
        gaps = db.execute(
            "SELECT count(*) FROM (SELECT conversation_id, max(seq) - count(*) AS gap FROM messages "
            "GROUP BY 1) WHERE gap != 0"
        ).fetchone()[0]
    assert (duplicates, gaps) == (0, 0)


async def test_a_client_can_resume_right_after_the_restart(tmp_path: Path) -> None:
    database = tmp_path / "huashu.db"
    server = Server(f"sqlite:///{database}", tmp_path).start()
    try:
        async with ws_client(f"{server.ws}/ws/chat") as client:
            started = only(await client.exchange({"type": "start"}), "started")
            await client.exchange({"type": "message", "id": "c-1", "text": "我的快递到哪了"})
    finally:
        server.kill()
    restarted = Server(f"sqlite:///{database}", tmp_path).start()
    try:
        async with ws_client(f"{restarted.ws}/ws/chat") as again:
            frames = await again.exchange(
                {"type": "resume", "conversation_id": started["conversation_id"], "token": started["token"]}
            )
            assert only(frames, "started")["state"] == "ask_order_id"  # rebuilt from the stored events
            answer = await again.exchange({"type": "message", "id": "c-2", "text": "202611180001"})
    finally:
        restarted.stop()
    assert any("SF1402658823115" in f.get("text", "") for f in answer)
