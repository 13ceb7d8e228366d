"""Secrets and existence (issue 16 item 7), on a real `huashu serve`: tickets stay out of the log and die
with a Redis-less server; a token is never printed; a customer token cannot probe which ids exist."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from app.config import Settings
from tests.api.server import Server, ws_client
from tests.api.wire import ALICE, only

pytestmark = [pytest.mark.server, pytest.mark.timeout(120)]


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'huashu.db'}"


@pytest.fixture
def server(database: str, tmp_path: Path) -> Iterator[Server]:
    running = Server(database, tmp_path, env={"HUASHU_LOG_LEVEL": "info"}).start()  # with the access log
    yield running
    running.stop()


async def _conversation_and_ticket(server: Server) -> tuple[str, str, str]:
    async with ws_client(f"{server.ws}/ws/chat") as customer:
        started = only(await customer.exchange({"type": "start", "mode": "human"}), "started")
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{server.http}/api/agent/tickets", headers=ALICE,
                                 json={"conversation_id": started["conversation_id"]})
    return str(started["conversation_id"]), str(started["token"]), str(answer.json()["ticket"])


async def _opens(server: Server, conversation_id: str, ticket: str) -> bool:
    try:
        async with ws_client(f"{server.ws}/ws/assist/{conversation_id}?ticket={ticket}") as agent:
            return (await agent.receive())["type"] == "snapshot"
    except ConnectionClosed:
        return False


async def test_tickets_never_reach_the_server_log(server: Server) -> None:
    conversation_id, _, ticket = await _conversation_and_ticket(server)
    assert await _opens(server, conversation_id, ticket)
    server.stop()  # flushes what it logged
    log = server.log.read_text(encoding="utf-8", errors="replace")
    assert f"/ws/assist/{conversation_id}?ticket=***" in log  # the request is logged …
    assert ticket not in log and ticket.split(".")[0] not in log  # … its ticket is not


async def test_a_used_ticket_stays_used_across_a_restart_without_redis(server: Server, database: str,
                                                                       tmp_path: Path) -> None:
    conversation_id, _, ticket = await _conversation_and_ticket(server)
    assert await _opens(server, conversation_id, ticket)
    assert not await _opens(server, conversation_id, ticket)  # single-use
    server.stop()
    restarted = Server(database, tmp_path).start()
    try:
        assert not await _opens(restarted, conversation_id, ticket)  # still refused after the restart
    finally:
        restarted.stop()


async def test_a_customer_token_cannot_tell_unknown_ids_from_others(server: Server) -> None:
    conversation_id, token, _ = await _conversation_and_ticket(server)
    async with httpx.AsyncClient() as http:
        other = await http.get(f"{server.http}/api/conversations/{conversation_id}",
                               headers={"Authorization": "Bearer not-this-token"})
        unknown = await http.get(f"{server.http}/api/conversations/no-such-conversation",
                                 headers={"Authorization": f"Bearer {token}"})
        own = await http.get(f"{server.http}/api/conversations/{conversation_id}",
                             headers={"Authorization": f"Bearer {token}"})
    assert (other.status_code, unknown.status_code, own.status_code) == (401, 401, 200)
    assert other.json()["message"] == unknown.json()["message"]
    async with ws_client(f"{server.ws}/ws/chat") as customer:
        errors = [f for f in await customer.exchange(
            {"type": "resume", "conversation_id": "no-such-conversation", "token": token}) if f["type"] == "error"]
    assert errors and errors[0]["code"] == "unauthorized"


def test_a_token_without_a_name_is_not_printed() -> None:
    with pytest.raises(ValueError) as refused:
        Settings(agent_tokens="alice:alice-token,s3cret-token-without-name").agent_credentials()
    assert "s3cret" not in str(refused.value) and "entry 2 of 2" in str(refused.value)
