"""Driving a conversation at the edge: one input event, plus the actions the script asks for on the way.

The engine stays pure; this is where handlers run (with their timeouts) and their outcome is fed back.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Final

from app.actions.demo import InMemoryOrders, demo_handlers, load_demo_data
from app.actions.runner import ActionRunner, build_handlers
from app.config import Settings
from app.engine.conversation import Conversation
from app.engine.events import Event
from app.engine.step import Engine, StepResult
from app.errors import StepLimitExceeded
from app.storage.models import utc_now

MAX_ACTIONS_PER_TURN: Final = 4


async def step_with_actions(
    engine: Engine,
    runner: ActionRunner,
    conversation: Conversation,
    event: Event,
    now: Callable[[], datetime] = utc_now,
) -> list[StepResult]:
    """Step, then run every requested action and step with its outcome; returns every step's result."""
    results = [engine.step(conversation, event)]
    while results[-1].actions:
        if len(results) > MAX_ACTIONS_PER_TURN:
            raise StepLimitExceeded(f"more than {MAX_ACTIONS_PER_TURN} actions in one turn; check the flow")
        outcome = await runner.run(results[-1].actions[-1], at=now())
        results.append(engine.step(results[-1].conversation, outcome))
    return results


def demo_data_path(settings: Settings) -> Path:
    return settings.scripts_dir / "demo_orders.yaml"


def build_runner(settings: Settings, demo_source: object | None = None) -> ActionRunner:
    """Handlers from `HUASHU_ACTIONS`; demo handlers read `demo_source` (the store) or the demo file."""
    rows, labels = load_demo_data(demo_data_path(settings)) if demo_data_path(settings).exists() else ([], {})
    source = demo_source if demo_source is not None else InMemoryOrders(rows)
    handlers = build_handlers(
        settings.actions,
        demo=demo_handlers(source, labels),  # type: ignore[arg-type]
        timeout=settings.action_timeout_seconds,
        retries=settings.action_retries,
    )
    # The overall bound covers every webhook attempt and its back-off.
    total = settings.action_timeout_seconds * (settings.action_retries + 1) + 0.1 * 2**settings.action_retries
    return ActionRunner(handlers, timeout=total)
