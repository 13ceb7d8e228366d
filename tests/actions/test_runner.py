"""Action handlers at the edge (issue 16): webhooks against a real local HTTP server — success, retry after
5xx, timeout, final 4xx, bad answers — and `module:function` entry points."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from app.actions.runner import ActionRunner, WebhookHandler, build_handlers
from app.engine.events import ActionCompleted, ActionFailed, ActionRequested

pytestmark = pytest.mark.timeout(60)


class Script:
    """What the local server answers, call by call: (status, body or None, delay seconds)."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, Any, float]] = []
        self.requests: list[dict[str, Any]] = []


@pytest.fixture
def webhook() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            length = int(self.headers["Content-Length"])
            script.requests.append(json.loads(self.rfile.read(length)))
            status, body, delay = script.answers.pop(0) if script.answers else (200, {"slots": {}}, 0.0)
            time.sleep(delay)
            payload = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout): nothing to answer

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", script
    server.shutdown()
    server.server_close()


REQUEST = ActionRequested("lookup_order", {"order_id": "202611180001", "topic": "order_status"})


async def run(url: str, *, timeout: float = 2.0, retries: int = 2) -> ActionCompleted | ActionFailed:
    runner = ActionRunner({"lookup_order": WebhookHandler("lookup_order", url, timeout=timeout, retries=retries)},
                          timeout=30)
    return await runner.run(REQUEST)


async def test_a_webhook_answer_fills_the_slots(webhook: tuple[str, Script]) -> None:
    url, script = webhook
    script.answers = [(200, {"slots": {"carrier": "顺丰速运", "eta": "2026-11-24", "gone": None}}, 0.0)]
    result = await run(url)
    assert isinstance(result, ActionCompleted) and result.slots == {"carrier": "顺丰速运", "eta": "2026-11-24"}
    assert script.requests == [{"action": "lookup_order", "args": {"order_id": "202611180001", "topic": "order_status"}}]


async def test_a_server_error_is_retried_then_succeeds(webhook: tuple[str, Script]) -> None:
    url, script = webhook
    script.answers = [(503, {"error": "busy"}, 0.0), (500, "oops", 0.0), (200, {"slots": {"carrier": "京东物流"}}, 0.0)]
    result = await run(url, retries=2)
    assert isinstance(result, ActionCompleted) and len(script.requests) == 3


async def test_retries_run_out(webhook: tuple[str, Script]) -> None:
    url, script = webhook
    script.answers = [(502, {}, 0.0)] * 3
    result = await run(url, retries=2)
    assert isinstance(result, ActionFailed) and "3 attempts" in result.reason and "HTTP 502" in result.reason


async def test_a_slow_webhook_times_out_and_is_retried(webhook: tuple[str, Script]) -> None:
    url, script = webhook
    script.answers = [(200, {"slots": {"carrier": "late"}}, 1.0), (200, {"slots": {"carrier": "京东物流"}}, 0.0)]
    result = await run(url, timeout=0.3, retries=1)
    assert isinstance(result, ActionCompleted) and result.slots == {"carrier": "京东物流"}


@pytest.mark.parametrize(("answer", "reason"), [
    ((404, {"error": "no such order"}, 0.0), "HTTP 404"),
    ((200, "not json", 0.0), "invalid JSON"),
    ((200, {"error": "订单不存在"}, 0.0), "订单不存在"),
])
async def test_client_errors_and_bad_answers_fail_at_once(webhook: tuple[str, Script], answer: tuple[int, Any, float],
                                                          reason: str) -> None:
    url, script = webhook
    script.answers = [answer]
    result = await run(url, retries=2)
    assert isinstance(result, ActionFailed) and reason in result.reason
    assert len(script.requests) == 1  # no retry: it would not get better


async def test_an_unreachable_webhook_fails_after_its_retries() -> None:
    result = await run("http://127.0.0.1:9/hook", timeout=0.5, retries=1)  # the discard port: nobody listens
    assert isinstance(result, ActionFailed) and "2 attempts" in result.reason


async def lookup(args: Any) -> dict[str, str]:
    """A `module:function` handler, as a deployment writes one."""
    return {"carrier": "自提", "order": args["order_id"]}


async def test_module_function_handlers_are_imported_and_called() -> None:
    handlers = build_handlers("lookup_order=tests.actions.test_runner:lookup", demo={}, timeout=1, retries=0)
    result = await ActionRunner(handlers).run(REQUEST)
    assert isinstance(result, ActionCompleted) and result.slots == {"carrier": "自提", "order": "202611180001"}


def test_bad_handler_references_stop_the_start() -> None:
    with pytest.raises(ValueError, match="not demo"):
        build_handlers("lookup_order=nothing", demo={}, timeout=1, retries=0)
    with pytest.raises(ValueError, match="unknown demo handler"):
        build_handlers("lookup_order=demo:nope", demo={}, timeout=1, retries=0)
