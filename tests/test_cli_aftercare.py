"""`huashu commitments` and `huashu complaints` on a real SQLite store."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.aftercare.complaints import ComplaintRecord
from app.aftercare.records import Commitment
from app.cli import app
from app.storage.migrate import open_store
from app.storage.models import NewConversation, hash_token

runner = CliRunner()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'huashu.db'}"
    monkeypatch.setenv("HUASHU_DATABASE_URL", url)
    now = datetime.now(UTC)

    async def fill() -> None:
        store = await open_store(url)
        await store.create_conversation(NewConversation(
            id="conv-1", flow="default", flow_version="1", channel="online", mode="bot", state="listen", slots={},
            counters={}, customer=None, token_hash=hash_token("t"), created_at=now))
        await store.add_commitments([
            Commitment(id=f"conv-1-{seq}-0", conversation_id="conv-1", seq=seq, what=what, customer="王女士",
                       promised_by="bot", source="phrase", phrase_id=None, window="24小时内",
                       made_at=now - timedelta(days=2), due_at=now + due)
            for seq, what, due in ((3, "24小时内给您答复", -timedelta(days=1)), (5, "明天上门", timedelta(days=1)))
        ])
        await store.add_complaint(ComplaintRecord.received(id="cp-1", conversation_id="conv-1", at=now,
                                                           channel="online", people=(), description="地板刮坏"))
        await store.close()

    asyncio.run(fill())
    return url


def lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_commitments_lists_by_status_and_done_records_who(database: str) -> None:
    overdue = runner.invoke(app, ["commitments", "--status", "overdue", "--json"])
    assert overdue.exit_code == 0, overdue.output
    assert [c["id"] for c in lines(overdue.output)] == ["conv-1-3-0"]

    done = runner.invoke(app, ["commitments", "done", "conv-1-3-0", "--by", "alice"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["done_by"] == "alice"

    listed = lines(runner.invoke(app, ["commitments", "--json"]).output)
    assert [(c["id"], c["status"]) for c in listed] == [("conv-1-3-0", "done"), ("conv-1-5-0", "open")]
    assert "conv-1-5-0" in runner.invoke(app, ["commitments"]).output  # the table


def test_an_unknown_commitment_or_status_is_refused_naming_it(database: str) -> None:
    unknown = runner.invoke(app, ["commitments", "done", "nope", "--by", "alice"])
    assert unknown.exit_code == 2 and "nope" in unknown.output
    bad = runner.invoke(app, ["commitments", "--status", "late"])
    assert bad.exit_code == 2 and "late" in bad.output


def test_complaints_lists_the_records(database: str) -> None:
    result = runner.invoke(app, ["complaints", "--status", "received", "--json"])
    assert result.exit_code == 0, result.output
    assert [(c["id"], c["status"]) for c in lines(result.output)] == [("cp-1", "received")]


def test_rescan_writes_what_stored_conversations_carry_and_nothing_twice(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from app.engine.events import BotSaid, ConversationStarted, CustomerSaid, RatingGiven
    from app.storage.models import NewMessage

    url = f"sqlite:///{tmp_path / 'huashu.db'}"
    monkeypatch.setenv("HUASHU_DATABASE_URL", url)
    at = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)

    def row(role: str, text: str, *events: object) -> NewMessage:
        return NewMessage(role=role, text=text, state_before="listen", state_after="listen", intent=None,  # type: ignore[arg-type]
                          phrase_id=None, suggestions=[], client_message_id=None,
                          events=[e.to_dict() for e in events], created_at=at)  # type: ignore[attr-defined]

    async def fill() -> None:  # written before any recorder ran (as after a failed write)
        store = await open_store(url)
        await store.create_conversation(NewConversation(
            id="old", flow="default", flow_version="1", channel="online", mode="bot", state="listen", slots={},
            counters={}, customer={"name": "王女士"}, token_hash=hash_token("t"), created_at=at))
        await store.append("old", [
            row("system", "conversation started", ConversationStarted("old", "default", "1", at=at)),
            row("customer", "查一下我的订单", CustomerSaid("查一下我的订单", at=at)),
            row("bot", "我们会在24小时内给您答复", BotSaid("我们会在24小时内给您答复", "promise.reply_time", "promise")),
            row("system", "customer rated 4", RatingGiven(4, at=at)),
        ])
        await store.close()

    asyncio.run(fill())
    for _ in range(2):
        result = runner.invoke(app, ["aftercare", "rescan"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output) == {"conversations": 1}

    async def read() -> tuple[object, list[Commitment]]:
        store = await open_store(url)
        try:
            return await store.rating("old"), await store.commitments(now=at)
        finally:
            await store.close()

    rating, commitments = asyncio.run(read())
    assert rating is not None and rating.score == 4  # type: ignore[attr-defined]
    assert [(c.customer, c.window) for c in commitments] == [("王女士", "24小时内")]
