"""A human takes over a handed-off conversation on a real server: the script leaves `handoff`, the human
speaks as themself, and their suggestions answer the customer's follow-up with no transfer line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.server import Server, ws_client
from tests.api.wire import ALICE, of_type, only

pytestmark = [pytest.mark.server, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("takeover")
    running = Server(f"sqlite:///{workdir / 'huashu.db'}", Path(workdir)).start()
    yield running
    running.stop()


async def test_the_human_who_takes_over_gets_answers_not_hand_off_lines(server: Server) -> None:
    async with ws_client(f"{server.ws}/ws/chat") as customer:
        started = only(await customer.exchange({"type": "start"}), "started")
        conversation_id = started["conversation_id"]
        await customer.exchange({"type": "message", "id": "c-1", "text": "快递员把我买的花瓶摔碎了,我要投诉"})
        handed = await customer.exchange({"type": "message", "id": "c-2", "text": "转人工"})
        assert only(handed, "status")["awaiting_agent"] is True

        async with ws_client(f"{server.ws}/ws/assist/{conversation_id}", additional_headers=ALICE) as agent:
            assert (await agent.receive())["type"] == "snapshot"
            await agent.barrier()
            took = await agent.exchange({"type": "takeover"})
            status = only(took, "status")
            assert status["state"] != "handoff" and status["mode"] == "human"
            assert status["slots"]["agent_name"] == "alice"
            assert all(item["stage"] != "hand-off" for s in of_type(took, "suggestions") for item in s["items"])

            await customer.exchange({"type": "message", "id": "c-3", "text": "好的,那退款多久能到账?"})
            seen = await agent.barrier()
            items = of_type(seen, "suggestions")[-1]["items"]
            assert items and all(item["stage"] != "hand-off" for item in items), items
            assert all("转接" not in item["text"] for item in items)
            answer = next(item for item in items if item["phrase_id"] == "answer.return_refund.refund_time")
            assert "个工作日" in answer["text"] or "天" in answer["text"]
            await agent.exchange({"type": "message", "id": "a-1", "text": answer["text"], "phrase_id": answer["phrase_id"]})
        received = await customer.barrier()
    assert [frame["text"] for frame in of_type(received, "agent_message")] == [answer["text"]]
    stored = httpx.get(f"{server.http}/api/conversations/{conversation_id}", headers=ALICE, timeout=10).json()
    assert stored["state"] != "handoff"
