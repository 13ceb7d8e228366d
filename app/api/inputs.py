"""Client JSON at the door: parsed without internal errors, and refused when it holds text that cannot be
encoded (a lone surrogate), for the WebSocket frames and every REST body alike."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, overload

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import ApiError


@overload
def utc(value: datetime) -> datetime: ...
@overload
def utc(value: None) -> None: ...
def utc(value: datetime | None) -> datetime | None:
    """A time from a request in UTC; a naive one (no zone given) is taken as UTC, as the API documents."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_json(raw: str) -> Any:
    """JSON text to Python; anything json refuses becomes `bad_json`, never an internal error: syntax,
    nesting deeper than the interpreter's recursion limit, integers longer than Python's 4,300 digits."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ApiError("bad_json", f"invalid JSON: {exc.msg} (column {exc.colno})") from None
    except RecursionError:
        raise ApiError("bad_json", "invalid JSON: nested too deeply") from None
    except ValueError as exc:  # e.g. "Exceeds the limit (4300 digits) for integer string conversion"
        raise ApiError("bad_json", f"invalid JSON: {exc}") from None


def invalid_text(data: Any) -> str | None:
    """The path of the first string (key or value) that is not storable text, e.g. `start.customer.name`.

    JSON may carry a lone surrogate ("\\ud800") that no store or socket can encode, or a NUL ("\\u0000")
    that PostgreSQL refuses in text while SQLite keeps it; both are refused at the door, the same on every
    store, instead of failing later. Iterative, so any nesting json accepted is walked.
    """
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if not _encodable(value):
                return path or "frame"
        elif isinstance(value, dict):
            for key, item in value.items():
                where = f"{path}.{key}" if path else str(key)
                if not _encodable(str(key)):
                    return (path or "frame") + " (a key)"
                stack.append((where, item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{index}]", item) for index, item in enumerate(value))
    return None


def _encodable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True



class RejectUnencodableJson:
    """ASGI middleware: a JSON request body holding a lone surrogate is answered 422 `invalid_field`
    naming the field, before any route sees text it could neither store nor send back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or b"json" not in dict(scope.get("headers") or []).get(b"content-type", b""):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        problem = _problem(body)
        if problem is not None:
            await _refuse(send, problem)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _problem(body: bytes) -> str | None:
    try:
        data = parse_json(body.decode("utf-8"))
    except (UnicodeDecodeError, ApiError):
        return None  # not ours to judge: the route's own parsing answers with its error
    path = invalid_text(data)
    return None if path is None else f"{path}: not storable text (a lone surrogate or a NUL character)"


async def _refuse(send: Send, message: str) -> None:
    body = json.dumps({"type": "error", "code": "invalid_field", "message": message}).encode()
    await send({"type": "http.response.start", "status": 422,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
