"""Reloading the pack of a running server (SIGHUP and `POST /api/admin/reload`): a live WebSocket stays
connected and is answered from the new pack; a broken pack is refused with its defects while the old
one keeps serving. Real `huashu serve` processes, real sockets."""

from __future__ import annotations

import asyncio
import shutil
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.config import PROJECT_ROOT
from tests.api.server import Client, Server, ws_client
from tests.api.wire import of_type, only
from tests.test_pack_tutorial import follow_tutorial

pytestmark = [pytest.mark.server, pytest.mark.timeout(120)]
GIFT_CARD_QUESTION = "你好,我的礼品卡余额在哪看"
AGENT = {"Authorization": "Bearer alice-token"}


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    pack = tmp_path / "pack"
    shutil.copytree(PROJECT_ROOT / "flows", pack / "flows")
    shutil.copytree(PROJECT_ROOT / "scripts_zh", pack / "scripts_zh")
    return pack


@pytest.fixture
def server(pack: Path, tmp_path: Path) -> Iterator[Server]:
    running = Server(f"sqlite:///{tmp_path / 'huashu.db'}", tmp_path, env={"HUASHU_PACK": str(pack)}).start()
    yield running
    running.stop()


async def ask(client: Client, text: str, number: int) -> list[str]:
    frames = await client.exchange({"type": "message", "id": f"m-{number}", "text": text})
    assert frames[0]["type"] == "ack", frames
    return [str(reply["phrase_id"]) for reply in of_type(frames, "reply")]


def intents_served(server: Server) -> list[str]:
    return [item["intent"] for item in httpx.get(f"{server.http}/api/intents", timeout=5).json()["intents"]]


async def wait_for_intent(server: Server, intent: str) -> None:
    deadline = time.monotonic() + 30
    while intent not in intents_served(server):
        assert time.monotonic() < deadline, f"the server never served {intent!r}"
        await asyncio.sleep(0.2)


async def test_sighup_reloads_the_pack_while_a_websocket_stays_connected(server: Server, pack: Path) -> None:
    async with ws_client(f"{server.ws}/ws/chat") as client:
        only(await client.exchange({"type": "start"}), "started")
        assert "answer.gift_card.balance" not in await ask(client, GIFT_CARD_QUESTION, 1)
        follow_tutorial(pack)
        assert server.process is not None
        server.process.send_signal(signal.SIGHUP)
        await wait_for_intent(server, "gift_card")
        assert "answer.gift_card.balance" in await ask(client, GIFT_CARD_QUESTION, 2)
    assert server.process.poll() is None


async def test_rest_reload_refuses_a_broken_pack_and_the_old_one_keeps_serving(server: Server, pack: Path) -> None:
    intents = pack / "scripts_zh" / "nlu" / "intents" / "core.yaml"
    async with ws_client(f"{server.ws}/ws/chat") as client:
        only(await client.exchange({"type": "start"}), "started")
        follow_tutorial(pack)
        intents.write_text(intents.read_text(encoding="utf-8").replace("- intent: handoff", "- intent: transfer"), encoding="utf-8")
        refused = httpx.post(f"{server.http}/api/admin/reload", headers=AGENT, timeout=30)
        assert refused.status_code == 422
        body = refused.json()
        assert body["code"] == "pack_refused" and body["type"] == "error"
        assert any("handoff" in d["message"] and d["file"].endswith("intents") for d in body["defects"])
        assert "gift_card" not in intents_served(server)
        assert "answer.gift_card.balance" not in await ask(client, GIFT_CARD_QUESTION, 1)  # still the old pack

        intents.write_text(intents.read_text(encoding="utf-8").replace("- intent: transfer", "- intent: handoff"), encoding="utf-8")
        reloaded = httpx.post(f"{server.http}/api/admin/reload", headers=AGENT, timeout=30)
        assert reloaded.status_code == 200, reloaded.text
        assert reloaded.json()["status"] == "reloaded" and "gift_card" in reloaded.json()["intents"]
        assert "answer.gift_card.balance" in await ask(client, GIFT_CARD_QUESTION, 2)


def test_rest_reload_needs_agent_credentials(server: Server) -> None:
    assert httpx.post(f"{server.http}/api/admin/reload", timeout=10).status_code == 401
    customer = {"Authorization": "Bearer not-an-agent"}
    assert httpx.post(f"{server.http}/api/admin/reload", headers=customer, timeout=10).status_code == 401


@pytest.fixture
def workers(pack: Path, tmp_path: Path, redis_url: str) -> Iterator[tuple[Server, Server]]:
    """Two workers of one deployment: one database, one pack, one Redis bus (a prefix of their own)."""
    env = {"HUASHU_PACK": str(pack), "HUASHU_REDIS_URL": redis_url,
           "HUASHU_REDIS_PREFIX": f"huashu-test-{uuid.uuid4().hex[:8]}"}
    database = f"sqlite:///{tmp_path / 'huashu.db'}"
    first = Server(database, tmp_path, env=env).start()
    second = Server(database, tmp_path, env=env).start()
    yield first, second
    first.stop()
    second.stop()


@pytest.mark.redis
async def test_a_reload_on_one_worker_reaches_every_worker_over_the_bus(
    workers: tuple[Server, Server], pack: Path
) -> None:
    asked, other = workers
    async with ws_client(f"{other.ws}/ws/chat") as client:
        only(await client.exchange({"type": "start"}), "started")
        assert "answer.gift_card.balance" not in await ask(client, GIFT_CARD_QUESTION, 1)
        follow_tutorial(pack)
        reloaded = httpx.post(f"{asked.http}/api/admin/reload", headers=AGENT, timeout=30)
        assert reloaded.status_code == 200, reloaded.text
        await wait_for_intent(other, "gift_card")  # the worker nobody asked reloads too
        assert "answer.gift_card.balance" in await ask(client, GIFT_CARD_QUESTION, 2)
