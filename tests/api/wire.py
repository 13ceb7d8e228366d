"""Socket helpers for the service tests.

`Socket.exchange(frame)` sends a frame and then a `ping`, and returns every frame up to the
`pong`: the server handles a socket's frames in order and publishes a turn's frames before it
reads the next one, so the pong is a barrier and no test ever waits on a frame that may not come.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession

from app.api.hub import Delivery

AGENT_TOKENS = "alice:alice-token,bob:bob-token"
# Read-only: Starlette's `websocket_connect` and schemathesis add headers to the dict they are given, and a
# shared dict that gains a Sec-WebSocket-Key breaks every later WebSocket upgrade. Pass `dict(ALICE)` to those.
ALICE: Mapping[str, str] = MappingProxyType({"Authorization": "Bearer alice-token"})
MAX_FRAMES = 200  # bound on frames collected before a pong: a runaway server fails the test, not hangs it

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@dataclass(eq=False)
class Recorder:
    """A hub subscriber (a socket stand-in) that keeps the frames it is sent."""

    id: str = "recorder"
    audience: Literal["customer", "agent"] = "customer"
    texts: list[str] = field(default_factory=list)

    def deliver(self, delivery: Delivery) -> None:
        self.texts.append(delivery.text)


class Socket:
    """A WebSocket test session with the helpers the tests read best with."""

    def __init__(self, session: WebSocketTestSession) -> None:
        self.session = session

    def send(self, frame: dict[str, Any] | str) -> None:
        if isinstance(frame, str):
            self.session.send_text(frame)
        else:
            self.session.send_json(frame)

    def receive(self) -> dict[str, Any]:
        frame: dict[str, Any] = self.session.receive_json()
        return frame

    def barrier(self) -> list[dict[str, Any]]:
        """Every frame queued for this socket so far."""
        self.send({"type": "ping"})
        frames: list[dict[str, Any]] = []
        for _ in range(MAX_FRAMES):
            frame = self.receive()
            if frame["type"] == "pong":
                return frames
            frames.append(frame)
        raise AssertionError(f"no pong after {MAX_FRAMES} frames: {frames[-3:]}")

    def exchange(self, frame: dict[str, Any] | str) -> list[dict[str, Any]]:
        self.send(frame)
        return self.barrier()


def of_type(frames: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [f for f in frames if f["type"] == kind]


def only(frames: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    matching = of_type(frames, kind)
    assert len(matching) == 1, f"expected one {kind!r} frame in {frames}"
    return matching[0]


class Connect:
    """Opens customer and agent sockets on one app."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    @contextmanager
    def customer(self) -> Iterator[Socket]:
        with self.client.websocket_connect("/ws/chat") as session:
            yield Socket(session)

    @contextmanager
    def started(self, **start: Any) -> Iterator[tuple[Socket, list[dict[str, Any]]]]:
        """A customer socket with a started conversation, and the frames the start produced."""
        with self.customer() as socket:
            yield socket, socket.exchange({"type": "start", **start})

    @contextmanager
    def agent(
        self, conversation_id: str, *, token: str | None = "alice-token", ticket: str | None = None
    ) -> Iterator[Socket]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        path = f"/ws/assist/{conversation_id}" + (f"?ticket={ticket}" if ticket else "")
        with self.client.websocket_connect(path, headers=headers) as session:
            yield Socket(session)
