"""A real `huashu serve` process on 127.0.0.1 and a `websockets` client, for the server tests."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from tests.api.wire import AGENT_TOKENS, MAX_FRAMES

START_TIMEOUT_S = 60.0
RECEIVE_TIMEOUT_S = 10.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """One `huashu serve` subprocess; `log` holds what it printed."""

    database_url: str
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.workdir / f"server-{self.port}.log"

    def start(self) -> Server:
        env = {
            **os.environ,
            "HUASHU_DATABASE_URL": self.database_url,
            "HUASHU_AGENT_TOKENS": AGENT_TOKENS,
            "HUASHU_RATE_LIMIT_PER_MINUTE": "100000",
            "HUASHU_CONVERSATION_RATE_PER_MINUTE": "100000",
            "HUASHU_NEW_CONVERSATIONS_PER_MINUTE": "100000",
            "HUASHU_LOG_LEVEL": "warning",
            **self.env,
        }
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=self.workdir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.http}/healthz", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"server did not answer /healthz within {START_TIMEOUT_S}s:\n{self.log.read_text()}"
        )

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush: what a crash or an OOM kill does."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


class Client:
    """A `websockets` client speaking the protocol, every wait bounded."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    async def send(self, frame: dict[str, Any] | str) -> None:
        await self.connection.send(frame if isinstance(frame, str) else json.dumps(frame, ensure_ascii=False))

    async def receive(self) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.connection.recv(), RECEIVE_TIMEOUT_S)
        frame: dict[str, Any] = json.loads(raw)
        return frame

    async def barrier(self) -> list[dict[str, Any]]:
        await self.send({"type": "ping"})
        frames: list[dict[str, Any]] = []
        for _ in range(MAX_FRAMES):
            frame = await self.receive()
            if frame["type"] == "pong":
                return frames
            frames.append(frame)
        raise AssertionError(f"no pong after {MAX_FRAMES} frames")

    async def exchange(self, frame: dict[str, Any] | str) -> list[dict[str, Any]]:
        await self.send(frame)
        return await self.barrier()


@asynccontextmanager
async def ws_client(url: str, **options: Any) -> AsyncIterator[Client]:
    async with connect(url, open_timeout=RECEIVE_TIMEOUT_S, close_timeout=2, **options) as connection:
        yield Client(connection)
