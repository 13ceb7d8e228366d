"""`ConversationService` without sockets: stored rows fold back into the conversation, and a worker's
cached copy follows what another worker stored (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import pytest
from fastapi.testclient import TestClient

from app.api.errors import error_code
from app.api.hub import Delivery, Hub
from app.api.service import MAX_TURN_ATTEMPTS, ConversationService
from app.config import Settings
from app.driver import build_runner
from app.engine.events import Event
from app.engine.step import Engine
from app.errors import SeqConflict
from app.storage.migrate import open_store
from app.storage.store import TranscriptStore
from tests.api.wire import Recorder

pytestmark = pytest.mark.timeout(60)


MakeService = Callable[[], Awaitable[ConversationService]]


@pytest.fixture
async def make_service(database_url: str, engine: Engine) -> AsyncIterator[MakeService]:
    """Services on one database, each with its own cache and hub: workers without a bus."""
    stores: list[TranscriptStore] = []

    async def make() -> ConversationService:
        store = await open_store(database_url)
        stores.append(store)
        runner = build_runner(Settings(database_url=database_url), store)
        return ConversationService(store=store, engine=engine, runner=runner, hub=Hub())

    yield make
    for store in stores:
        await store.close()


async def test_stored_rows_fold_back_into_the_live_conversation(make_service: MakeService) -> None:
    worker = await make_service()
    live = await worker.start(flow=None, mode="bot", channel="online", customer=None, subscriber=Recorder())
    for number, text in enumerate(["我的快递到哪了", "202611180001", "没有了,谢谢"]):
        await worker.customer_message(live.id, f"c-{number}", text, origin="recorder")
    restarted = await make_service()  # an empty cache: rebuilt from the stored events
    async with restarted._locked(live.id) as rebuilt:
        assert rebuilt.conversation.to_dict() == live.conversation.to_dict()
        assert rebuilt.last_seq == live.last_seq and rebuilt.acked == live.acked


async def test_stored_events_of_every_kind_read_back_as_they_were_written(make_service: MakeService) -> None:
    worker = await make_service()
    live = await worker.start(
        flow=None, mode="human", channel="online", customer={"name": "王女士"}, subscriber=Recorder()
    )
    await worker.customer_message(live.id, "c-1", "我的快递到哪了,订单号202611180001", origin="recorder")
    await worker.agent_message(
        live.id, "alice", "您好,马上为您查询。", phrase_id=None, client_id="a-1", origin="x"
    )
    await worker.goto(live.id, "alice", "lookup_order", origin="x")
    await worker.set_mode(live.id, "alice", "bot", origin="x")
    stored = await worker.store.messages(live.id)
    events = [Event.from_dict(e) for m in stored for e in m.events]
    assert len({e.type for e in events}) >= 10
    assert [e.to_dict() for e in events] == [e for m in stored for e in m.events]


async def test_a_worker_refreshes_a_copy_another_worker_changed(make_service: MakeService) -> None:
    a, b = await make_service(), await make_service()
    live = await a.start(flow=None, mode="bot", channel="online", customer=None, subscriber=Recorder())
    await a.customer_message(live.id, "c-1", "你好", origin="recorder")
    taken = await b.agent_message(
        live.id, "alice", "您好,我是人工客服。", phrase_id=None, client_id=None, origin="x"
    )
    assert taken.after.mode == "assist"
    # Without a bus, A learns of B's write when the store refuses A's append (stepped from an old
    # seq); A refreshes and steps again: the conversation is B's now, so the bot stays quiet.
    first = await a.customer_message(live.id, "c-2", "在吗", origin="recorder")
    assert [m.role for m in first.stored] == ["customer"]
    assert first.stored[0].seq == taken.stored[-1].seq + 1
    # With a bus, the hint comes first (mark_stale), and even the first turn is right.
    await b.set_mode(live.id, "alice", "bot", origin="x")
    a.mark_stale(live.id, 10_000)
    answered = await a.customer_message(live.id, "c-4", "请问七天无理由退货怎么办理?", origin="recorder")
    assert "bot" in [m.role for m in answered.stored]


async def test_turns_racing_on_two_workers_are_serialised_by_the_store(make_service: MakeService) -> None:
    """Two workers with no bus between them drive one conversation at the same time: every turn is
    stepped from the state the previous stored turn left (no turn is stored from an outdated copy)."""
    a, b = await make_service(), await make_service()
    live = await a.start(flow=None, mode="bot", channel="online", customer=None, subscriber=Recorder())
    texts = ["你好", "我的快递到哪了", "202611180001", "好的", "请问七天无理由退货怎么办理?", "没有了,谢谢"]
    turns = await asyncio.gather(
        *(
            (a if number % 2 else b).customer_message(live.id, f"c-{number}", text, origin="recorder")
            for number, text in enumerate(texts * 2)
        )
    )
    stored = await a.store.messages(live.id)
    assert [m.seq for m in stored] == list(range(1, len(stored) + 1))
    assert sorted(m.client_message_id for m in stored if m.role == "customer") == sorted(f"c-{n}" for n in range(12))
    assert all(turn.stored for turn in turns)  # every message was stored by the turn that sent it
    for previous, row in zip(stored, stored[1:], strict=False):
        assert row.state_before == previous.state_after, (row.seq, row.role, row.text)


async def test_a_resend_another_worker_stored_is_not_stored_again(make_service: MakeService) -> None:
    a, b = await make_service(), await make_service()
    live = await a.start(flow=None, mode="bot", channel="online", customer=None, subscriber=Recorder())
    async with b._locked(live.id):
        pass  # B caches the conversation now
    first = await a.customer_message(live.id, "c-1", "请问七天无理由退货怎么办理?", origin="recorder")
    again = await b.customer_message(live.id, "c-1", "请问七天无理由退货怎么办理?", origin="recorder")
    assert again.duplicate_of == first.stored[0].seq and again.stored == ()
    assert again.replies == sum(m.role == "bot" for m in first.stored) > 0  # the same ack, `replies` too
    stored = await a.store.messages(live.id)
    assert [m.client_message_id for m in stored].count("c-1") == 1
    assert len(stored) == first.stored[-1].seq  # the bot's rows were not stored twice either


async def test_frames_only_agents_get_are_left_out_while_no_agent_listens(make_service: MakeService) -> None:
    worker = await make_service()
    published: list[list[Delivery]] = []
    publish = worker.hub.publish

    async def spy(conversation_id: str, deliveries: Sequence[Delivery], last_seq: int) -> None:
        published.append(list(deliveries))
        await publish(conversation_id, deliveries, last_seq)

    worker.hub.publish = spy  # type: ignore[method-assign]
    customer = Recorder()
    live = await worker.start(flow=None, mode="bot", channel="online", customer=None, subscriber=customer)
    await worker.customer_message(live.id, "c-1", "请问七天无理由退货怎么办理?", origin="recorder")
    assert published[-1] and all(d.audience != "agent" for d in published[-1])
    seen = len(customer.texts)

    agent = Recorder(id="agent", audience="agent")
    worker.hub.subscribe(live.id, agent)
    await worker.customer_message(live.id, "c-2", "请问七天无理由退货怎么办理?", origin="recorder")

    assert {"customer_message", "reply", "status"} <= {json.loads(t)["type"] for t in agent.texts}
    assert {"ack", "reply"} <= {json.loads(t)["type"] for t in customer.texts[seen:]}


async def test_a_turn_that_keeps_losing_the_race_gives_up_without_storing(make_service: MakeService) -> None:
    """Fault injection: every append is refused as if another worker always wrote first."""
    worker = await make_service()
    live = await worker.start(flow=None, mode="bot", channel="online", customer=None, subscriber=Recorder())
    stored_before = await worker.store.messages(live.id)
    attempts: list[int] = []

    async def always_behind(
        conversation_id: str, messages: object, snapshot: object = None, *, expected_last_seq: int = 0
    ) -> None:
        attempts.append(expected_last_seq)
        raise SeqConflict(conversation_id, expected_last_seq, expected_last_seq + 1)

    worker.store.append = always_behind  # type: ignore[method-assign, assignment]
    with pytest.raises(SeqConflict) as refused:
        await worker.customer_message(live.id, "c-1", "你好", origin="recorder")

    assert len(attempts) == MAX_TURN_ATTEMPTS
    assert worker._cache[live.id].stale  # the next turn starts from the store, not the outdated copy
    assert error_code(refused.value) == "unavailable"  # the sender is told to resend; no ack was sent
    del worker.store.append
    assert await worker.store.messages(live.id) == stored_before


async def test_the_cache_of_live_conversations_stays_within_its_size(database_url: str, engine: Engine) -> None:
    """New conversations count too (they were once added without evicting: a worker's memory grew with
    every conversation it started); an evicted conversation is rebuilt from the store when it speaks."""
    store = await open_store(database_url)
    try:
        runner = build_runner(Settings(database_url=database_url), store)
        worker = ConversationService(store=store, engine=engine, runner=runner, hub=Hub(), cache_size=3)
        started = [
            await worker.start(flow=None, mode="bot", channel="online", customer=None, subscriber=Recorder())
            for _ in range(10)
        ]
        assert len(worker._cache) == 3 and list(worker._cache) == [live.id for live in started[-3:]]

        answered = await worker.customer_message(started[0].id, "c-1", "请问七天无理由退货怎么办理?", origin="recorder")

        assert [m.role for m in answered.stored][:2] == ["customer", "bot"]
        assert len(worker._cache) == 3 and started[0].id in worker._cache
    finally:
        await store.close()


def test_the_cache_size_comes_from_the_settings(make_client: Callable[..., TestClient]) -> None:
    client = make_client(conversation_cache=25)
    assert client.app.state.huashu.conversations.cache_size == 25  # type: ignore[attr-defined]
