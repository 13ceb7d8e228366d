"""The TranscriptStore contract: every implementation (memory, SQLite, PostgreSQL) passes this file."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.errors import ConversationExists, ConversationNotFound, SeqConflict, StorageError
from app.storage.models import ConversationSnapshot, NewConversation, NewMessage
from app.storage.store import TranscriptStore

NewConv = Callable[..., NewConversation]
NewMsg = Callable[..., NewMessage]
Snap = Callable[..., ConversationSnapshot]
MakeStore = Callable[[], Awaitable[TranscriptStore]]


async def test_store_satisfies_the_protocol(store: TranscriptStore) -> None:
    assert isinstance(store, TranscriptStore)


async def test_created_conversation_reads_back(
    store: TranscriptStore, new_conversation: NewConv, t0: datetime
) -> None:
    conv = new_conversation(agent="agent-7", channel="phone")
    await store.create_conversation(conv)

    got = await store.get_conversation(conv.id)

    assert (got.id, got.flow, got.flow_version, got.channel, got.mode, got.state) == (
        conv.id,
        "parcel",
        "1",
        "phone",
        "bot",
        "start",
    )
    assert (got.slots, got.counters, got.customer, got.agent) == (
        {},
        {"turns": 0},
        {"name": "王女士"},
        "agent-7",
    )
    assert got.token_hash == conv.token_hash
    assert got.created_at == got.updated_at == t0
    assert got.ended_at is None


async def test_creating_an_existing_id_raises(store: TranscriptStore, new_conversation: NewConv) -> None:
    conv = new_conversation()
    await store.create_conversation(conv)
    with pytest.raises(ConversationExists):
        await store.create_conversation(new_conversation(id=conv.id, flow="other"))
    assert (await store.get_conversation(conv.id)).flow == "parcel"


async def test_append_assigns_consecutive_seqs_in_order(
    store: TranscriptStore, new_conversation: NewConv, new_message: NewMsg
) -> None:
    conv = new_conversation()
    await store.create_conversation(conv)

    first = await store.append(conv.id, [new_message(), new_message(role="bot")])
    second = await store.append(conv.id, [new_message(role="agent")])

    assert [m.seq for m in first + second] == [1, 2, 3]
    assert [m.role for m in await store.messages(conv.id)] == ["customer", "bot", "agent"]
    assert not any(m.duplicate for m in first + second)


async def test_seqs_are_per_conversation(
    store: TranscriptStore, new_conversation: NewConv, new_message: NewMsg
) -> None:
    a, b = new_conversation(), new_conversation()
    await store.create_conversation(a)
    await store.create_conversation(b)
    await store.append(a.id, [new_message(), new_message()])
    assert [m.seq for m in await store.append(b.id, [new_message()])] == [1]


async def test_messages_after_seq_returns_only_later_messages(
    store: TranscriptStore, new_conversation: NewConv, new_message: NewMsg
) -> None:
    conv = new_conversation()
    await store.create_conversation(conv)
    await store.append(conv.id, [new_message() for _ in range(5)])

    assert [m.seq for m in await store.messages(conv.id, after_seq=3)] == [4, 5]
    assert await store.messages(conv.id, after_seq=5) == []
    assert [m.seq for m in await store.messages(conv.id)] == [1, 2, 3, 4, 5]


async def test_stored_message_keeps_every_field(
    store: TranscriptStore, new_conversation: NewConv, new_message: NewMsg
) -> None:
    conv = new_conversation()
    await store.create_conversation(conv)
    sent = new_message(
        role="bot",
        state_before="start",
        state_after="ask_order",
        intent="where_is_parcel",
        phrase_id="parcel.ask_order.1",
        suggestions=[{"phrase_id": "p1", "text": "请提供订单号"}],
        client_message_id="c-1",
    )

    [stored] = await store.append(conv.id, [sent])
    [read] = await store.messages(conv.id)

    assert read == stored
    for name in (
        "role",
        "text",
        "state_before",
        "state_after",
        "intent",
        "phrase_id",
        "suggestions",
        "client_message_id",
        "events",
        "created_at",
    ):
        assert getattr(read, name) == getattr(sent, name), name
    assert read.conversation_id == conv.id
    assert read.stored_at.tzinfo is not None


async def test_resend_with_same_client_id_is_not_duplicated(
    store: TranscriptStore, new_conversation: NewConv, new_message: NewMsg
) -> None:
    conv = new_conversation()
    await store.create_conversation(conv)
    [original] = await store.append(conv.id, [new_message(client_message_id="c-1", text="第一次")])

    [again] = await store.append(conv.id, [new_message(client_message_id="c-1", text="重发")])

    assert again.duplicate is True
    assert (again.seq, again.text) == (original.seq, "第一次")
    assert [m.text for m in await store.messages(conv.id)] == ["第一次"]


async def test_same_client_id_twice_in_one_append_is_stored_once(
    store: TranscriptStore, new_conversation: NewConv, new_message: NewMsg
) -> None:
    conv = new_conversation()
    await store.create_conversation(conv)

    result = await store.append(
        conv.id, [new_message(client_message_id="c-1"), new_message(client_message_id="c-1"), new_message()]
    )

    assert [(m.seq, m.duplicate) for m in result] == [(1, False), (1, True), (2, False)]
    assert len(await store.messages(conv.id)) == 2


async def test_same_client_id_in_other_conversation_is_independent(
    store: TranscriptStore, new_conversation: NewConv, new_message: NewMsg
) -> None:
    a, b = new_conversation(), new_conversation()
    await store.create_conversation(a)
    await store.create_conversation(b)
    await store.append(a.id, [new_message(client_message_id="c-1")])
    [m] = await store.append(b.id, [new_message(client_message_id="c-1")])
    assert not m.duplicate


async def test_messages_without_client_id_are_never_duplicates(
    store: TranscriptStore, new_conversation: NewConv, new_message: NewMsg
) -> None:
    conv = new_conversation()
    await store.create_conversation(conv)
    for _ in range(3):
        await store.append(conv.id, [new_message(text="同样的话"), new_message(text="同样的话")])
    assert [m.seq for m in await store.messages(conv.id)] == [1, 2, 3, 4, 5, 6]


async def test_concurrent_burst_with_duplicate_ids_stores_one_row_per_id(
    store: TranscriptStore, new_conversation: NewConv, new_message: NewMsg
) -> None:
    conv = new_conversation()
    await store.create_conversation(conv)
    ids = [f"c-{i}" for i in range(150)] + [f"c-{i}" for i in range(0, 150, 3)]  # 150 unique + 50 resends
    assert len(ids) == 200

    results = await asyncio.gather(*(store.append(conv.id, [new_message(client_message_id=i)]) for i in ids))

    stored = await store.messages(conv.id)
    assert [m.seq for m in stored] == list(range(1, 151))
    assert Counter(m.client_message_id for m in stored) == Counter(set(ids))
    fresh = Counter(r.client_message_id for [r] in results if not r.duplicate)
    assert fresh == Counter(set(ids))  # exactly one caller per id was told "stored"
    by_id = {m.client_message_id: m.seq for m in stored}
    assert all(r.seq == by_id[r.client_message_id] for [r] in results)


async def test_events_fold_back_in_the_order_they_were_appended(
    store: TranscriptStore, new_conversation: NewConv, new_message: NewMsg
) -> None:
    conv = new_conversation()
    await store.create_conversation(conv)
    appended: list[dict[str, object]] = []
    for turn in range(4):
        batch = [
            new_message(events=[{"type": "CustomerSaid", "n": turn}]),
            new_message(role="bot", events=[{"type": "StateEntered", "n": turn}, {"type": "BotSaid", "n": turn}]),
        ]
        appended += [e for m in batch for e in m.events]
        await store.append(conv.id, batch)

    replayed = [e for m in await store.messages(conv.id) for e in m.events]

    assert replayed == appended


async def test_find_message_by_client_id(
    store: TranscriptStore, new_conversation: NewConv, new_message: NewMsg
) -> None:
    conv = new_conversation()
    await store.create_conversation(conv)
    await store.append(conv.id, [new_message(), new_message(client_message_id="c-9", text="要退货")])

    found = await store.find_message(conv.id, "c-9")

    assert found is not None and (found.seq, found.text, found.duplicate) == (2, "要退货", False)
    assert await store.find_message(conv.id, "nope") is None


async def test_snapshot_updates_the_conversation_with_the_messages(
    store: TranscriptStore, new_conversation: NewConv, new_message: NewMsg, snapshot: Snap
) -> None:
    conv = new_conversation()
    await store.create_conversation(conv)
    ended = datetime(2024, 6, 1, 18, 30, tzinfo=timezone(timedelta(hours=8)))
    snap = snapshot(
        state="handoff",
        slots={"order_id": "SF123"},
        counters={"turns": 2},
        mode="human",
        agent="小李",
        ended_at=ended,
    )

    await store.append(conv.id, [new_message()], snap)

    got = await store.get_conversation(conv.id)
    assert (got.state, got.slots, got.counters, got.mode, got.agent) == (
        "handoff",
        {"order_id": "SF123"},
        {"turns": 2},
        "human",
        "小李",
    )
    assert got.ended_at == ended and got.ended_at.tzinfo == UTC
    assert got.updated_at > got.created_at


async def test_snapshot_without_messages_still_applies(
    store: TranscriptStore, new_conversation: NewConv, snapshot: Snap
) -> None:
    conv = new_conversation()
    await store.create_conversation(conv)
    assert await store.append(conv.id, [], snapshot(mode="human", agent="a1")) == []
    assert (await store.get_conversation(conv.id)).mode == "human"


async def test_replayed_append_does_not_roll_the_conversation_back(
    store: TranscriptStore, new_conversation: NewConv, new_message: NewMsg, snapshot: Snap
) -> None:
    conv = new_conversation()
    await store.create_conversation(conv)
    await store.append(conv.id, [new_message(client_message_id="c-1")], snapshot(state="ask_order"))
    await store.append(conv.id, [new_message(client_message_id="c-2")], snapshot(state="confirm"))

    [replayed] = await store.append(
        conv.id, [new_message(client_message_id="c-1")], snapshot(state="ask_order")
    )

    assert replayed.duplicate
    assert (await store.get_conversation(conv.id)).state == "confirm"


async def test_conditional_append_writes_when_the_conversation_is_where_expected(
    store: TranscriptStore, new_conversation: NewConv, new_message: NewMsg, snapshot: Snap
) -> None:
    conv = new_conversation()
    await store.create_conversation(conv)
    first = await store.append(conv.id, [new_message(), new_message()], expected_last_seq=0)
    second = await store.append(conv.id, [new_message()], snapshot(state="confirm"), expected_last_seq=2)
    assert [m.seq for m in first + second] == [1, 2, 3]
    assert (await store.get_conversation(conv.id)).state == "confirm"


async def test_conditional_append_behind_the_conversation_writes_nothing(
    store: TranscriptStore, new_conversation: NewConv, new_message: NewMsg, snapshot: Snap
) -> None:
    conv = new_conversation()
    await store.create_conversation(conv)
    await store.append(conv.id, [new_message(), new_message()], snapshot(state="ask_order"))

    with pytest.raises(SeqConflict) as conflict:
        await store.append(conv.id, [new_message(client_message_id="late")], snapshot(state="farewell"), expected_last_seq=1)

    assert (conflict.value.expected, conflict.value.actual, conflict.value.code) == (1, 2, "seq_conflict")
    assert [m.seq for m in await store.messages(conv.id)] == [1, 2]
    assert await store.find_message(conv.id, "late") is None
    assert (await store.get_conversation(conv.id)).state == "ask_order"  # the snapshot was not applied either


async def test_racing_conditional_appends_let_exactly_one_writer_through(
    store: TranscriptStore, new_conversation: NewConv, new_message: NewMsg
) -> None:
    """Two workers that both read seq 0 and append at once (group commit may put them in one batch)."""
    conv = new_conversation()
    await store.create_conversation(conv)
    outcomes = await asyncio.gather(
        *(store.append(conv.id, [new_message(text=f"w{i}")], expected_last_seq=0) for i in range(8)),
        return_exceptions=True,
    )
    winners = [o for o in outcomes if isinstance(o, list)]
    assert len(winners) == 1 and all(isinstance(o, SeqConflict) for o in outcomes if o not in winners)
    assert [(m.seq, m.text) for m in await store.messages(conv.id)] == [(1, winners[0][0].text)]


async def test_failed_append_stores_nothing(
    store: TranscriptStore, new_conversation: NewConv, new_message: NewMsg, snapshot: Snap
) -> None:
    conv = new_conversation()
    await store.create_conversation(conv)

    with pytest.raises(StorageError, match="not JSON-serialisable"):
        await store.append(conv.id, [new_message()], snapshot(slots={"when": datetime.now(UTC)}))
    with pytest.raises(StorageError, match="not JSON-serialisable"):
        await store.append(conv.id, [new_message(), new_message(events=[{"type": "X", "bad": {1, 2}}])])

    assert await store.messages(conv.id) == []
    assert (await store.get_conversation(conv.id)).state == "start"


async def test_unknown_conversation_raises_not_found(store: TranscriptStore, new_message: NewMsg) -> None:
    with pytest.raises(ConversationNotFound):
        await store.get_conversation("missing")
    with pytest.raises(ConversationNotFound):
        await store.append("missing", [new_message()])
    with pytest.raises(ConversationNotFound):
        await store.messages("missing")
    with pytest.raises(ConversationNotFound):
        await store.find_message("missing", "c-1")


async def test_json_round_trip_keeps_chinese_text_and_nesting(
    store: TranscriptStore, new_conversation: NewConv, new_message: NewMsg, snapshot: Snap
) -> None:
    slots = {
        "地址": "上海市浦东新区",
        "items": [{"名称": "茶叶", "数量": 2, "价格": 19.5}],
        "ok": True,
        "none": None,
    }
    events = [
        {"type": "CustomerSaid", "text": "我要投诉😡", "at": "2024-06-01T09:00:00+00:00"},
        {"type": "SlotSet", "name": "地址", "value": slots["地址"]},
    ]
    suggestions = [{"phrase_id": "apology.1", "text": "非常抱歉给您带来不便", "score": 0.93}]
    conv = new_conversation(slots=slots, customer={"昵称": "小王", "tags": ["VIP"]})
    await store.create_conversation(conv)

    await store.append(conv.id, [new_message(events=events, suggestions=suggestions)], snapshot(slots=slots))

    [m] = await store.messages(conv.id)
    got = await store.get_conversation(conv.id)
    assert (m.events, m.suggestions) == (events, suggestions)
    assert (got.slots, got.customer) == (slots, {"昵称": "小王", "tags": ["VIP"]})


async def test_tuples_come_back_as_lists_like_json(
    store: TranscriptStore, new_conversation: NewConv, new_message: NewMsg
) -> None:
    conv = new_conversation(slots={"pair": (1, 2)})
    await store.create_conversation(conv)
    assert (await store.get_conversation(conv.id)).slots == {"pair": [1, 2]}


async def test_datetimes_come_back_in_utc(
    store: TranscriptStore, new_conversation: NewConv, new_message: NewMsg
) -> None:
    beijing = timezone(timedelta(hours=8))
    conv = new_conversation(created_at=datetime(2024, 6, 1, 17, 0, tzinfo=beijing))
    await store.create_conversation(conv)
    await store.append(conv.id, [new_message(created_at=datetime(2024, 6, 1, 17, 0, 1, 250, tzinfo=beijing))])

    got = await store.get_conversation(conv.id)
    [m] = await store.messages(conv.id)
    assert got.created_at == datetime(2024, 6, 1, 9, 0, tzinfo=UTC) and got.created_at.tzinfo == UTC
    assert m.created_at == datetime(2024, 6, 1, 9, 0, 1, 250, tzinfo=UTC) and m.created_at.tzinfo == UTC


async def test_returned_objects_are_copies(
    store: TranscriptStore, new_conversation: NewConv, new_message: NewMsg
) -> None:
    conv = new_conversation(slots={"a": 1})
    await store.create_conversation(conv)
    await store.append(conv.id, [new_message(events=[{"type": "X"}])])

    (await store.get_conversation(conv.id)).slots["a"] = 2
    (await store.messages(conv.id))[0].events.append({"type": "Y"})

    assert (await store.get_conversation(conv.id)).slots == {"a": 1}
    assert (await store.messages(conv.id))[0].events == [{"type": "X"}]


async def _create_listing(
    store: TranscriptStore, new_conversation: NewConv, t0: datetime
) -> list[NewConversation]:
    convs = [
        new_conversation(
            id=f"conv-{i:02d}",
            flow="parcel" if i % 2 == 0 else "refund",
            state="start" if i % 3 else "ended",
            created_at=t0 + timedelta(minutes=i),
        )
        for i in range(12)
    ]
    for conv in convs:
        await store.create_conversation(conv)
    return convs


async def test_list_is_newest_first_with_total_and_pages(
    store: TranscriptStore, new_conversation: NewConv, t0: datetime
) -> None:
    await _create_listing(store, new_conversation, t0)

    page1, total1 = await store.list_conversations(limit=5)
    page3, total3 = await store.list_conversations(limit=5, offset=10)

    assert (total1, total3) == (12, 12)
    assert [c.id for c in page1] == [f"conv-{i:02d}" for i in (11, 10, 9, 8, 7)]
    assert [c.id for c in page3] == ["conv-01", "conv-00"]
    assert await store.list_conversations(offset=50) == ([], 12)


async def test_list_filters_by_state_flow_and_time_window(
    store: TranscriptStore, new_conversation: NewConv, t0: datetime
) -> None:
    await _create_listing(store, new_conversation, t0)

    by_state, n_state = await store.list_conversations(state="ended")
    by_both, n_both = await store.list_conversations(state="ended", flow="parcel")
    window, n_window = await store.list_conversations(
        since=t0 + timedelta(minutes=3), until=t0 + timedelta(minutes=6)
    )
    assert (n_state, [c.id for c in by_state]) == (4, ["conv-09", "conv-06", "conv-03", "conv-00"])
    assert (n_both, [c.id for c in by_both]) == (2, ["conv-06", "conv-00"])
    # since is inclusive, until exclusive
    assert (n_window, [c.id for c in window]) == (3, ["conv-05", "conv-04", "conv-03"])
    assert await store.list_conversations(flow="nothing") == ([], 0)


async def test_list_ties_on_created_at_are_ordered_by_id(
    store: TranscriptStore, new_conversation: NewConv
) -> None:
    for cid in ("b", "a", "c"):
        await store.create_conversation(new_conversation(id=cid))
    page, _ = await store.list_conversations()
    assert [c.id for c in page] == ["c", "b", "a"]


async def test_list_refuses_negative_paging(store: TranscriptStore) -> None:
    with pytest.raises(ValueError):
        await store.list_conversations(limit=-1)


async def test_demo_orders_upsert_and_fetch(store: TranscriptStore) -> None:
    order = {
        "order_id": "SF1001",
        "status": "运输中",
        "carrier": "顺丰",
        "tracking_no": "SF1234567890",
        "eta": "2024-06-03",
        "product": "龙井茶",
    }
    await store.upsert_demo_orders([order, {**order, "order_id": "SF1002"}])
    await store.upsert_demo_orders([{**order, "status": "已签收"}])

    assert await store.demo_order("SF1001") == {**order, "status": "已签收"}
    assert (await store.demo_order("SF1002") or {})["status"] == "运输中"
    assert await store.demo_order("SF9999") is None


async def test_demo_order_rows_must_have_exactly_the_fields(store: TranscriptStore) -> None:
    with pytest.raises(ValueError, match="missing"):
        await store.upsert_demo_orders([{"order_id": "x"}])


async def test_to_dict_is_json_ready_and_leaves_out_the_token_hash(
    store: TranscriptStore, new_conversation: NewConv, new_message: NewMsg
) -> None:
    conv = new_conversation()
    await store.create_conversation(conv)
    [m] = await store.append(conv.id, [new_message()])

    conv_dict = (await store.get_conversation(conv.id)).to_dict()
    msg_dict = m.to_dict()

    assert "token_hash" not in conv_dict
    assert conv_dict["created_at"] == "2024-06-01T09:00:00+00:00"
    assert msg_dict["seq"] == 1 and msg_dict["duplicate"] is False
    json.dumps([conv_dict, msg_dict], ensure_ascii=False)


async def test_closed_store_refuses_calls(make_store: MakeStore, new_conversation: NewConv) -> None:
    store = await make_store()
    await store.close()
    with pytest.raises(StorageError, match="closed"):
        await store.create_conversation(new_conversation())
    with pytest.raises(StorageError, match="closed"):
        await store.list_conversations()


def test_domain_types_refuse_bad_values(new_conversation: NewConv, new_message: NewMsg) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        new_message(created_at=datetime(2024, 6, 1))
    with pytest.raises(ValueError, match="role"):
        new_message(role="robot")
    with pytest.raises(ValueError, match="channel"):
        new_conversation(channel="fax")
    with pytest.raises(ValueError, match="token_hash"):
        new_conversation(token_hash="the-raw-token")
