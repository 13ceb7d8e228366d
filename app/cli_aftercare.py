"""`huashu commitments` (promises made to customers, and marking one kept), `huashu complaints` and
`huashu aftercare rescan`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from app.config import Settings
from app.errors import HuashuError, RecordNotFound
from app.storage.models import utc_now
from app.storage.store import TranscriptStore

T = TypeVar("T")
console = Console()
err_console = Console(stderr=True)

commitments_app = typer.Typer(
    help="Promises made to customers with a time (open, overdue, done); docs/aftercare.md.",
    invoke_without_command=True,
)
complaints_app = typer.Typer(help="Complaint records and their process; docs/aftercare.md.", invoke_without_command=True)
aftercare_app = typer.Typer(help="The aftercare records as a whole; docs/aftercare.md.", no_args_is_help=True)

Status = Literal["open", "overdue", "done"]
AsJson = Annotated[bool, typer.Option("--json", help="one JSON object per line")]


def _with_store(settings: Settings, work: Callable[[TranscriptStore], Awaitable[T]]) -> T:
    from app.storage.migrate import open_store

    async def run() -> T:
        store = await open_store(settings.database_url)
        try:
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except RecordNotFound as exc:
        err_console.print(str(exc), markup=False)
        raise typer.Exit(2) from None
    except HuashuError as exc:
        err_console.print(f"[red]{type(exc).__name__}:[/red] {exc}")
        raise typer.Exit(2) from None


def _print(items: list[dict[str, Any]], as_json: bool, columns: list[str], title: str) -> None:
    if as_json:
        for item in items:
            print(json.dumps(item, ensure_ascii=False))
        return
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for item in items:
        table.add_row(*(str(item.get(c) if item.get(c) is not None else "") for c in columns))
    console.print(table)


@commitments_app.callback()
def commitments(
    ctx: typer.Context,
    status: Annotated[Status | None, typer.Option(help="open (not yet due), overdue, or done")] = None,
    conversation: Annotated[str | None, typer.Option(help="only this conversation's")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 200,
    as_json: AsJson = False,
) -> None:
    """List commitments, earliest due first (the default command)."""
    if ctx.invoked_subcommand is not None:
        return
    now = utc_now()

    async def read(store: TranscriptStore) -> list[dict[str, Any]]:
        items = await store.commitments(now=now, status=status, conversation_id=conversation, limit=limit)
        return [c.to_dict(now) for c in items]

    items = _with_store(Settings(), read)
    _print(items, as_json, ["id", "status", "due_at", "customer", "promised_by", "what"], "commitments")


@commitments_app.command("done")
def commitment_done(
    commitment_id: Annotated[str, typer.Argument(help="the commitment's id")],
    by: Annotated[str, typer.Option("--by", help="who kept it")],
) -> None:
    """Mark a commitment kept, recording who and now."""
    now = utc_now()

    async def complete(store: TranscriptStore) -> dict[str, Any]:
        return (await store.complete_commitment(commitment_id, by=by, at=now)).to_dict(now)

    print(json.dumps(_with_store(Settings(), complete), ensure_ascii=False))


@complaints_app.callback()
def complaints(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="received, recorded, investigating, resolved, feedback_given")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 200,
    as_json: AsJson = False,
) -> None:
    """List complaint records, newest first."""
    if ctx.invoked_subcommand is not None:
        return

    async def read(store: TranscriptStore) -> list[dict[str, Any]]:
        return [c.to_dict() for c in await store.complaints(status=status, limit=limit)]

    items = _with_store(Settings(), read)
    _print(items, as_json, ["id", "status", "conversation_id", "channel", "updated_at", "description"], "complaints")


@aftercare_app.command("rescan")
def rescan(
    since: Annotated[str | None, typer.Option(help="conversations created at or after (ISO date/date-time, UTC)")] = None,
    until: Annotated[str | None, typer.Option(help="conversations created before")] = None,
) -> None:
    """Read stored conversations again and write the ratings, commitments and complaint records they carry
    that are not stored yet (after a failed write, or with a pack that now tracks promises). Idempotent."""
    from app.api.aftercare_recorder import AftercareRecorder
    from app.cli import _when  # imported when run: app.cli imports this module
    from app.engine.conversation import Conversation
    from app.engine.events import Event
    from app.runtime import build_engine

    settings = Settings()
    engine = build_engine(settings)
    start, end = _when(since, "--since"), _when(until, "--until")

    async def run(store: TranscriptStore) -> int:
        recorder = AftercareRecorder(store, lambda: engine.content.promises)
        count, offset = 0, 0
        while True:
            page, total = await store.list_conversations(since=start, until=end, limit=200, offset=offset)
            for stored in page:
                messages = await store.messages(stored.id)
                folded = Conversation.from_events(Event.from_dict(e) for m in messages for e in m.events)
                await recorder.record(stored.id, folded, stored.agent, messages, stored)
                count += 1
            offset += len(page)
            if not page or offset >= total:
                return count

    print(json.dumps({"conversations": _with_store(settings, run)}))
