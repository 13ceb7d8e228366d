"""What both WebSocket endpoints share: the outbox (one writer per socket), frame decoding with the
size limit, the rate limiter, and the receive loop that turns every error into an error frame.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Final, Literal

from pydantic import TypeAdapter, ValidationError
from starlette.websockets import WebSocket, WebSocketDisconnect

from app.api.errors import ApiError, error_code
from app.api.hub import Delivery
from app.api.inputs import invalid_text, parse_json
from app.api.messages import ErrorFrame, Frame, encode
from app.api.metrics import Metrics

log = logging.getLogger(__name__)

OUTBOX_LIMIT: Final = 1000  # frames queued for one socket before it counts as not reading
CLOSE_TIMEOUT_S: Final = 5.0
TOO_LARGE, POLICY, TOO_SLOW, NORMAL = 1009, 1008, 1013, 1000


class FrameTooLarge(Exception):
    """A frame over HUASHU_MAX_FRAME_BYTES: the connection closes with 1009."""


class _Close:
    def __init__(self, code: int, reason: str) -> None:
        self.code, self.reason = code, reason


class Outbox:
    """A socket's outgoing frames, sent in order by one writer task; also the socket's hub subscriber."""

    def __init__(
        self, websocket: WebSocket, audience: Literal["customer", "agent"], limit: int = OUTBOX_LIMIT
    ) -> None:
        self.id = uuid.uuid4().hex
        self.audience = audience
        self.min_seq = 0  # frames about messages up to here were already sent (history, snapshot)
        self._delivered_seq = 0
        self._websocket = websocket
        self._queue: asyncio.Queue[str | _Close] = asyncio.Queue(limit)
        self._closing = False

    def deliver(self, delivery: Delivery) -> None:
        if delivery.seq is not None and delivery.only is None and delivery.seq <= self.min_seq:
            return
        self._put(delivery.text)
        if delivery.seq is not None:
            self._delivered_seq = max(self._delivered_seq, delivery.seq)

    @property
    def seen_seq(self) -> int:
        """The highest stored message this socket was sent (in history, a snapshot or a live frame)."""
        return max(self.min_seq, self._delivered_seq)

    def send(self, frame: Frame) -> None:
        self._put(encode(frame))

    def _put(self, item: str | _Close) -> None:
        if self._closing:
            return
        if isinstance(item, _Close):
            self._closing = True
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            # The client does not read: drop it rather than buffer without bound; it can resume.
            self._closing = True
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(_Close(TOO_SLOW, "not reading fast enough; reconnect and resume"))

    def close(self, code: int = NORMAL, reason: str = "") -> None:
        self._put(_Close(code, reason))

    async def _write(self) -> None:
        while True:
            item = await self._queue.get()
            if isinstance(item, _Close):
                await self._websocket.close(item.code, item.reason)
                return
            await self._websocket.send_text(item)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Outbox]:
        """Run the writer for the block; at the end, send what is queued and close the socket."""
        writer = asyncio.create_task(self._write())
        try:
            yield self
        finally:
            self.close()
            try:
                await asyncio.wait_for(writer, CLOSE_TIMEOUT_S)
            except Exception:  # noqa: BLE001 - the client may be gone already; nothing left to tell it
                writer.cancel()


class RateLimiter:
    """Token bucket: `per_minute` frames a minute on average, bursts of up to `per_minute`."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._capacity = float(per_minute)
        self._rate = per_minute / 60.0
        self._tokens = float(per_minute)
        self._clock = clock
        self._last = clock()

    def allow(self) -> bool:
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


class KeyedRateLimits:
    """One token bucket per key (a conversation id, a client address), kept for the most recently used
    `max_keys` keys, so a limit survives the reconnect that would reset a per-connection one.

    Per worker process: behind N workers without sticky sessions a key may get up to N times the rate.
    """

    def __init__(self, per_minute: int, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, RateLimiter] = OrderedDict()

    def allow(self, key: str) -> bool:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = RateLimiter(self.per_minute, self._clock)
            if len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)  # the least recently used key starts afresh
        else:
            self._buckets.move_to_end(key)
        return bucket.allow()


async def receive_text(websocket: WebSocket, max_bytes: int) -> str:
    """The next text frame; raises `WebSocketDisconnect`, `FrameTooLarge`, or `ApiError` (binary frame)."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text: str | None = message.get("text")
    if text is None:
        if len(message.get("bytes") or b"") > max_bytes:
            raise FrameTooLarge
        raise ApiError("bad_json", "binary frames are not accepted: send JSON text frames")
    # A str has at least one byte per character and UTF-8 at most four: encode only when it matters.
    if len(text) > max_bytes or (len(text) * 4 > max_bytes and len(text.encode("utf-8")) > max_bytes):
        raise FrameTooLarge
    return text


def decode(raw: str, adapter: TypeAdapter[Any], types: frozenset[str]) -> Frame:
    """Parse one client frame; raises `ApiError` with code bad_json, unknown_type or invalid_field."""
    data = parse_json(raw)
    if not isinstance(data, dict):
        raise ApiError("bad_json", 'a frame must be a JSON object with a "type"')
    bad_text = invalid_text(data)
    if bad_text is not None:
        raise ApiError("invalid_field", f"{bad_text}: not storable text (a lone surrogate or a NUL character)")
    ref = data.get("id") if isinstance(data.get("id"), str) else None
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in types:
        accepted = ", ".join(sorted(types))
        raise ApiError(
            "unknown_type", f"unknown frame type {kind!r}; this endpoint accepts: {accepted}", ref=ref
        )
    try:
        frame: Frame = adapter.validate_python(data)
    except ValidationError as exc:
        raise ApiError("invalid_field", describe(exc), ref=ref) from None
    return frame


def describe(exc: ValidationError) -> str:
    """`field: problem` for each error, without the union tag pydantic puts first."""
    parts = []
    for error in exc.errors():
        location = ".".join(str(p) for p in error["loc"][1:]) or "frame"
        parts.append(f"{location}: {error['msg']}")
    return "; ".join(parts)


def error_frame(exc: BaseException, ref: str | None) -> ErrorFrame:
    code = error_code(exc)
    if code == "internal_error":
        log.exception("unexpected error while handling a frame", exc_info=exc)
        message = "internal error; the frame was not processed"
    else:
        message = getattr(exc, "message", None) or str(exc) or code
    return ErrorFrame(code=code, message=message, ref=getattr(exc, "ref", None) or ref)


async def serve_frames(
    websocket: WebSocket,
    outbox: Outbox,
    *,
    max_bytes: int,
    adapter: TypeAdapter[Any],
    types: frozenset[str],
    handle: Callable[[Frame], Awaitable[None]],
    limiter: RateLimiter | None = None,
    metrics: Metrics | None = None,
    endpoint: str = "chat",
) -> None:
    """Receive, decode and handle frames until the client leaves; errors become error frames."""
    if metrics is not None:
        metrics.connections.labels(endpoint).inc()
    try:
        await _serve(websocket, outbox, max_bytes, adapter, types, handle, limiter, metrics, endpoint)
    finally:
        if metrics is not None:
            metrics.connections.labels(endpoint).dec()


async def _serve(websocket: WebSocket, outbox: Outbox, max_bytes: int, adapter: TypeAdapter[Any],
                 types: frozenset[str], handle: Callable[[Frame], Awaitable[None]], limiter: RateLimiter | None,
                 metrics: Metrics | None, endpoint: str) -> None:
    while True:
        try:
            raw = await receive_text(websocket, max_bytes)
        except WebSocketDisconnect:
            return
        except FrameTooLarge:
            outbox.send(ErrorFrame(code="too_large", message=f"frames are limited to {max_bytes} bytes"))
            outbox.close(TOO_LARGE, "frame too large")
            return
        except ApiError as exc:
            outbox.send(error_frame(exc, None))
            continue
        frame: Frame | None = None
        try:
            allowed = limiter.allow() if limiter is not None else True
            frame = decode(raw, adapter, types)
            if not allowed:
                raise ApiError("rate_limited", "too many frames; slow down and resend with the same id")
            began = time.perf_counter()
            await handle(frame)
            if metrics is not None and frame.type == "message":
                metrics.turns.labels(endpoint).inc()
                metrics.turn_seconds.labels(endpoint).observe(time.perf_counter() - began)
        except Exception as exc:  # noqa: BLE001 - every problem becomes an error frame; the socket stays open
            sent = error_frame(exc, getattr(frame, "id", None))
            if metrics is not None:
                metrics.errors.labels(sent.code).inc()
            outbox.send(sent)
