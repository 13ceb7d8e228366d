"""`huashu chat`: the bot in a terminal, showing state, understood intent and the ranked suggestions."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from app.config import Settings
from app.driver import build_runner, step_with_actions
from app.engine.events import CustomerSaid
from app.engine.step import Engine, StepResult
from app.storage.models import utc_now

_QUIT = {"/quit", "/exit", "/q"}


def _show(console: Console, engine: Engine, results: list[StepResult]) -> None:
    for result in results:
        for reply in result.replies:
            console.print(f"[bold green]bot[/bold green] ({reply.stage}, {reply.phrase_id}): {escape(reply.text)}", highlight=False, soft_wrap=True)
        for action in result.actions:
            console.print(f"[dim]  action {action.action} requested[/dim]")
    last = results[-1]
    analysis = next((r.analysis for r in results if r.analysis is not None), None)
    if analysis is not None:
        a = analysis
        alts = ", ".join(f"{i} {s:.2f}" for i, s in a.alternatives)
        console.print(
            f"[dim]  intent {a.intent} {a.confidence:.2f} (alt: {alts}) · emotion {a.emotion} · "
            f"confirmation {a.confirmation} · handoff {a.handoff} · slots {escape(str(dict(a.slots)))}[/dim]",
            highlight=False,
        )
    conversation = last.conversation
    console.print(f"[dim]  state → {conversation.state}  slots {escape(str(conversation.slots))}[/dim]", highlight=False, soft_wrap=True)
    suggestions = engine.suggest(conversation, analysis.text if analysis else "", limit=3)
    for s in suggestions:
        missing = f" missing {','.join(s.missing_slots)}" if s.missing_slots else ""
        console.print(f"[dim]  suggest {s.score:.2f} {s.phrase_id}{missing}: {escape(s.text)}[/dim]", highlight=False, soft_wrap=True)


async def run_chat(
    engine: Engine, settings: Settings, *, flow: str | None, channel: str, console: Console, conversation_id: str
) -> None:
    runner = build_runner(settings)
    start = engine.start(conversation_id, flow=flow, channel=channel, at=utc_now())
    console.print(f"[dim]flow {start.conversation.flow} {start.conversation.flow_version} · /quit to leave[/dim]")
    _show(console, engine, [start])
    conversation = start.conversation
    while not conversation.ended:
        try:
            text = console.input("[bold cyan]you[/bold cyan]: ").strip()
        except (EOFError, KeyboardInterrupt):
            console.print()
            break
        if not text:
            continue
        if text in _QUIT:
            break
        results = await step_with_actions(engine, runner, conversation, CustomerSaid(text, at=utc_now()))
        _show(console, engine, results)
        conversation = results[-1].conversation
        if conversation.awaiting_agent:
            console.print("[yellow]the script hands this conversation to a human agent here[/yellow]")
            break
