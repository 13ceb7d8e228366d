"""Running a flow's actions at the edge: handler lookup, timeout, retries, and the event fed back."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

import httpx

from app.engine.events import ActionCompleted, ActionFailed, ActionRequested
from app.errors import HuashuError

ActionHandler = Callable[[Mapping[str, str]], Awaitable[Mapping[str, Any]]]


class ActionError(HuashuError):
    """A handler could not produce a result (not found, bad response…); the script takes its failure path."""

    code = "action_failed"


class WebhookHandler:
    """POSTs `{"action", "args"}` (args: the conversation's slots) and expects `{"slots": {...}}` back.

    Retries connection errors, timeouts and 5xx answers with exponential back-off; a 4xx is final.
    """

    def __init__(self, action: str, url: str, *, timeout: float, retries: int, client: httpx.AsyncClient | None = None) -> None:
        self.action = action
        self.url = url
        self.timeout = timeout
        self.retries = retries
        self._client = client

    async def __call__(self, args: Mapping[str, str]) -> Mapping[str, Any]:
        client = self._client or httpx.AsyncClient()
        try:
            last_error = "no attempt"
            for attempt in range(self.retries + 1):
                if attempt:
                    await asyncio.sleep(0.1 * 2 ** (attempt - 1))
                try:
                    response = await client.post(
                        self.url, json={"action": self.action, "args": dict(args)}, timeout=self.timeout
                    )
                except httpx.HTTPError as exc:
                    last_error = f"{type(exc).__name__}: {exc}"
                    continue
                if response.status_code >= 500:
                    last_error = f"HTTP {response.status_code}"
                    continue
                if response.status_code >= 400:
                    raise ActionError(f"webhook answered HTTP {response.status_code}")
                try:
                    body = response.json()
                except ValueError:
                    raise ActionError("webhook answered with invalid JSON") from None
                slots = body.get("slots") if isinstance(body, dict) else None
                if not isinstance(slots, dict):
                    raise ActionError(body.get("error", "webhook answer has no `slots` object") if isinstance(body, dict) else "bad answer")
                return slots
            raise ActionError(f"webhook failed after {self.retries + 1} attempts: {last_error}")
        finally:
            if self._client is None:
                await client.aclose()


class ActionRunner:
    """Maps action names to handlers and turns every outcome into an event for the engine."""

    def __init__(self, handlers: Mapping[str, ActionHandler], *, timeout: float = 3.0) -> None:
        self.handlers = dict(handlers)
        self.timeout = timeout

    async def run(self, request: ActionRequested, *, at: datetime | None = None) -> ActionCompleted | ActionFailed:
        handler = self.handlers.get(request.action)
        if handler is None:
            return ActionFailed(request.action, f"no handler configured for action {request.action!r}", at)
        try:
            slots = await asyncio.wait_for(handler(request.args), timeout=self.timeout)
        except TimeoutError:
            return ActionFailed(request.action, f"timed out after {self.timeout:g}s", at)
        except ActionError as exc:
            return ActionFailed(request.action, str(exc), at)
        except Exception as exc:  # noqa: BLE001 - a broken handler must not break the conversation
            return ActionFailed(request.action, f"{type(exc).__name__}: {exc}", at)
        return ActionCompleted(request.action, {k: str(v) for k, v in slots.items() if v is not None}, at)


def parse_action_spec(spec: str) -> dict[str, str]:
    """`lookup_order=demo:lookup_order,x=https://…` → {action: handler reference}."""
    pairs: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        action, sep, target = item.partition("=")
        if not sep or not action or not target:
            raise ValueError(f"HUASHU_ACTIONS entry {item!r} is not action=handler")
        pairs[action.strip()] = target.strip()
    return pairs


def build_handlers(
    spec: str,
    *,
    demo: Mapping[str, ActionHandler],
    timeout: float,
    retries: int,
) -> dict[str, ActionHandler]:
    """Resolve each reference: `demo:<name>`, an `http(s)://` webhook, or a `module:function` entry point."""
    handlers: dict[str, ActionHandler] = {}
    for action, target in parse_action_spec(spec).items():
        if target.startswith("demo:"):
            name = target.removeprefix("demo:")
            if name not in demo:
                raise ValueError(f"unknown demo handler {name!r} for action {action!r}; demo handlers: {', '.join(demo)}")
            handlers[action] = demo[name]
        elif target.startswith(("http://", "https://")):
            handlers[action] = WebhookHandler(action, target, timeout=timeout, retries=retries)
        else:
            module_name, sep, function = target.partition(":")
            if not sep:
                raise ValueError(f"action {action!r}: handler {target!r} is not demo:…, a URL or module:function")
            handlers[action] = getattr(importlib.import_module(module_name), function)
    return handlers
