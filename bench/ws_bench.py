"""WebSocket service benchmark: N concurrent bot-mode conversations against a real `huashu serve`,
side by side with a bare FastAPI echo WebSocket measured in the same run.

    .venv/bin/python bench/ws_bench.py [--conversations 1000] [--turns 5] [--paced-turns 3] [--think 20] [--rounds 3]
                                       [--workers N --redis-url URL] [--database-url URL] [--floor]

Both servers are real uvicorn processes on 127.0.0.1 (the same number of workers, same uvicorn
settings). Huashu runs on a temporary SQLite file with durable acks (WAL, synchronous=FULL, group
commit), or on `--database-url` (PostgreSQL: an empty database, migrated here first). `--workers N`
(N > 1) needs `--redis-url`, the bus between Huashu's workers.
Each round measures, for each server:

* saturated: every connection sends its next message as soon as the previous turn is complete
  (closed loop); gives the maximum turns/s (echo: messages/s);
* paced: every connection sends one message every `--think` seconds (random phase), the load of
  N customers typing; latency is measured from the *scheduled* send time to the first reply
  (echo: the echo), so a server that falls behind is not flattered (no coordinated omission).

`--floor` adds a third server, measured in the same rounds: Huashu's `ack` and one canned
`reply` per message with nothing behind them (`floor_app`), the cost of the protocol itself.

A Huashu turn is: send `message`, receive its `ack` and the bot's `reply` frames (the ack says how
many `replies` follow, as a widget would use it). Reported figures are medians over the rounds.
The load generator runs on the same machine and competes for its CPUs; the CPU time the server's
processes (from /proc, workers included; not PostgreSQL or Redis) and the load generator spend per
turn in the saturated phase is reported too: a cost that does not depend on who else is running.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from bot_turns import MESSAGES  # bench/ is on sys.path: this script's folder, or uvicorn's app_dir
from fastapi import (  # module level: the endpoint's annotations resolve here
    FastAPI,
    WebSocket,
    WebSocketDisconnect,
)
from proc_stat import read_stat

ROOT = Path(__file__).resolve().parent.parent
CONNECT_CONCURRENCY = 50
FLOOR_REPLY = "您好,您的问题我已经了解,七天无理由退货可以在订单详情页申请,审核通过后寄回商品即可。"
TURN_TIMEOUT_S = 30.0


# ---------------------------------------------------------------- the echo server (a subprocess)


def reference_app() -> FastAPI:
    """A bare FastAPI app with the `/healthz` the bench polls before it starts."""
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def echo_app() -> Any:
    app = reference_app()

    @app.websocket("/ws/echo")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                await websocket.send_text(await websocket.receive_text())
        except WebSocketDisconnect:
            return

    return app


def floor_app() -> Any:
    """The protocol's floor: Huashu's frames for a bot turn with nothing behind them.

    Each `message` is parsed and answered with an `ack` and one canned `reply`, as JSON text
    frames: no validation, no engine, nothing stored. It measures what the protocol itself costs
    on this stack (one frame in, two out, where echo sends one): about the least any
    implementation of the protocol on FastAPI + uvicorn can spend on a turn.
    """
    app = reference_app()

    @app.websocket("/ws/chat")
    async def chat(websocket: WebSocket) -> None:
        await websocket.accept()
        seq = 0
        try:
            while True:
                frame = json.loads(await websocket.receive_text())
                kind = frame.get("type")
                if kind == "start":
                    await websocket.send_text(
                        json.dumps(
                            {
                                "type": "started",
                                "conversation_id": "floor",
                                "token": "t",
                                "flow": "floor",
                                "flow_version": "1",
                                "state": "greeting",
                            }
                        )
                    )
                elif kind == "ping":
                    await websocket.send_text('{"type":"pong"}')
                elif kind == "message":
                    seq += 2
                    ack = {"type": "ack", "id": frame["id"], "seq": seq - 1, "replies": 1}
                    reply = {
                        "type": "reply",
                        "seq": seq,
                        "text": FLOOR_REPLY,
                        "phrase_id": "floor.reply",
                        "state": "answer",
                        "intent": "floor",
                    }
                    await websocket.send_text(json.dumps(ack))
                    await websocket.send_text(json.dumps(reply, ensure_ascii=False))
        except WebSocketDisconnect:
            return

    return app


# ---------------------------------------------------------------- servers


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Process:
    command: list[str]
    env: dict[str, str]
    port: int
    cwd: Path
    popen: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        import httpx

        self.popen = subprocess.Popen(
            self.command, env=self.env, cwd=self.cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(
                    f"{self.command} exited: {self.popen.stderr.read().decode() if self.popen.stderr else ''}"
                )
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.command} did not start")

    def __exit__(self, *exc: object) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()


def huashu_server(
    workdir: Path, *, workers: int = 1, database_url: str | None = None, redis_url: str | None = None
) -> Process:
    port = free_port()
    env = {
        **os.environ,
        "HUASHU_DATABASE_URL": database_url or f"sqlite:///{workdir / 'bench.db'}",
        "HUASHU_RATE_LIMIT_PER_MINUTE": "1000000",
        "HUASHU_CONVERSATION_RATE_PER_MINUTE": "1000000",
        "HUASHU_NEW_CONVERSATIONS_PER_MINUTE": "1000000",
        "HUASHU_AGENT_TOKENS": "bench:bench-token",
        "HUASHU_LOG_LEVEL": "warning",
    }
    if redis_url:
        env["HUASHU_REDIS_URL"] = redis_url
        env["HUASHU_REDIS_PREFIX"] = f"huashu-bench-{port}"  # a channel of its own on a shared Redis
    if database_url:  # the embedded SQLite default migrates itself at start; a server database does not
        subprocess.run([sys.executable, "-m", "app.cli", "db", "upgrade"], env=env, cwd=ROOT, check=True)
    command = [
        sys.executable,
        "-m",
        "app.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    return Process(command, env, port, workdir)


def reference_server(app: str, workdir: Path, max_size: int, *, workers: int = 1) -> Process:
    """A reference app of this file (`echo` or `floor`) under uvicorn, in a subprocess."""
    port = free_port()
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--serve",
        app,
        "--port",
        str(port),
        "--max-size",
        str(max_size),
        "--workers",
        str(workers),
    ]
    return Process(command, dict(os.environ), port, workdir)


# ---------------------------------------------------------------- the load


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by process `pid` and every process below it (uvicorn's
    workers), from /proc; 0.0 where there is no /proc. PostgreSQL and Redis are not included."""
    proc = Path("/proc")
    if not proc.is_dir():
        return 0.0
    stats: dict[int, tuple[int, float]] = {}  # pid -> (parent pid, cpu seconds)
    for entry in proc.iterdir():
        if entry.name.isdigit() and (stat := read_stat(entry / "stat")) is not None:
            stats[int(entry.name)] = stat
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, (ppid, _) in stats.items() if ppid == parent and child not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(stats[member][1] for member in tree if member in stats)


@dataclass
class Measured:
    latencies_ms: list[float] = field(default_factory=list)
    turns: int = 0
    seconds: float = 0.0
    errors: int = 0
    server_cpu: float = 0.0  # seconds of CPU the server's processes used during the phase
    client_cpu: float = 0.0  # seconds of CPU this load generator used during the phase

    @property
    def rate(self) -> float:
        return self.turns / self.seconds if self.seconds else 0.0

    @property
    def server_us_per_turn(self) -> float:
        return 1e6 * self.server_cpu / self.turns if self.turns else float("nan")

    @property
    def client_us_per_turn(self) -> float:
        return 1e6 * self.client_cpu / self.turns if self.turns else float("nan")

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Conversation:
    """One Huashu bot conversation over `websockets`."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.n = 0

    @classmethod
    async def open(cls, url: str) -> Conversation:
        from websockets.asyncio.client import connect

        connection = await connect(url, max_size=2**20, open_timeout=60, ping_interval=None)
        self = cls(connection)
        await connection.send('{"type":"start"}')
        await self._until_pong()
        return self

    async def _until_pong(self) -> None:
        """Read until the `pong` of a `ping` (after `start`, whose greeting lines are not counted)."""
        await self.connection.send('{"type":"ping"}')
        while True:
            frame = json.loads(await self.connection.recv())
            if frame["type"] == "pong":
                return
            if frame["type"] == "error":
                raise RuntimeError(frame)

    async def turn(self) -> float:
        """Send one message; seconds from send to the first reply; returns after the whole turn
        (the ack and as many replies as it announces; other frames, such as `status`, are skipped)."""
        text = MESSAGES[self.n % len(MESSAGES)]
        self.n += 1
        sent = time.perf_counter()
        first: float | None = None
        expected: int | None = None
        seen = 0
        await self.connection.send(
            json.dumps({"type": "message", "id": f"m{self.n}", "text": text}, ensure_ascii=False)
        )
        while expected is None or seen < expected:
            frame = json.loads(await self.connection.recv())
            if frame["type"] == "ack":
                expected = frame["replies"]
            elif frame["type"] == "reply":
                seen += 1
                first = first or time.perf_counter()
            elif frame["type"] == "error":
                raise RuntimeError(frame)
        return (first or time.perf_counter()) - sent

    async def close(self) -> None:
        await self.connection.close()


class Echo:
    def __init__(self, connection: Any) -> None:
        self.connection = connection

    @classmethod
    async def open(cls, url: str) -> Echo:
        from websockets.asyncio.client import connect

        return cls(await connect(url, max_size=2**20, open_timeout=60, ping_interval=None))

    async def turn(self) -> float:
        sent = time.perf_counter()
        await self.connection.send('{"type":"message","id":"m1","text":"请问七天无理由退货怎么办理?"}')
        await self.connection.recv()
        return time.perf_counter() - sent

    async def close(self) -> None:
        await self.connection.close()


async def open_all(factory: Callable[[str], Awaitable[Any]], url: str, n: int) -> list[Any]:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one() -> Any:
        async with gate:
            return await factory(url)

    return list(await asyncio.gather(*(one() for _ in range(n))))


async def saturated(clients: list[Any], turns: int) -> Measured:
    measured = Measured()

    async def run(client: Any) -> None:
        for _ in range(turns):
            try:
                measured.latencies_ms.append(1000 * await asyncio.wait_for(client.turn(), TURN_TIMEOUT_S))
                measured.turns += 1
            except Exception:  # noqa: BLE001 - counted, reported
                measured.errors += 1
                return

    start = time.perf_counter()
    await asyncio.gather(*(run(c) for c in clients))
    measured.seconds = time.perf_counter() - start
    return measured


async def paced(clients: list[Any], turns: int, think: float) -> Measured:
    measured = Measured()
    start = time.perf_counter() + 0.5

    async def run(client: Any) -> None:
        phase = random.uniform(0, think)
        for k in range(turns):
            scheduled = start + phase + k * think
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            late = time.perf_counter() - scheduled  # waiting on our own previous turn counts as latency
            try:
                took = await asyncio.wait_for(client.turn(), TURN_TIMEOUT_S)
            except Exception:  # noqa: BLE001
                measured.errors += 1
                return
            measured.latencies_ms.append(1000 * (late + took))
            measured.turns += 1

    await asyncio.gather(*(run(c) for c in clients))
    measured.seconds = time.perf_counter() - start
    return measured


async def measure(
    factory: Callable[[str], Awaitable[Any]], url: str, server_pid: int, args: argparse.Namespace
) -> tuple[Measured, Measured]:
    clients = await open_all(factory, url, args.conversations)
    try:
        server_before, client_before = cpu_seconds(server_pid), time.process_time()
        full = await saturated(clients, args.turns)
        full.server_cpu = cpu_seconds(server_pid) - server_before
        full.client_cpu = time.process_time() - client_before
        calm = await paced(clients, args.paced_turns, args.think)
    finally:
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    return full, calm


# ---------------------------------------------------------------- report


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=5, help="turns per conversation in the saturated phase")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--think", type=float, default=20.0, help="seconds between a conversation's messages (paced)"
    )
    parser.add_argument(
        "--paced-turns", type=int, default=3, help="turns per conversation in the paced phase"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="uvicorn workers of each server (>1 needs --redis-url)"
    )
    parser.add_argument("--database-url", help="Huashu's database (default: a temporary SQLite file)")
    parser.add_argument("--redis-url", help="Huashu's bus between workers (HUASHU_REDIS_URL)")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also measure the protocol's floor: Huashu's frames with nothing behind them (see floor_app)",
    )
    parser.add_argument("--serve", choices=("echo", "floor"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--max-size", type=int, default=16384, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        import uvicorn

        uvicorn.run(
            f"ws_bench:{args.serve}_app",  # an import string: uvicorn's worker processes import it themselves
            factory=True,
            app_dir=str(Path(__file__).resolve().parent),
            workers=args.workers,
            host="127.0.0.1",
            port=args.port,
            ws_max_size=args.max_size,
            ws_per_message_deflate=False,
            log_level="warning",  # the same uvicorn settings as `huashu serve`
        )
        return 0
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass

    names = ["echo", *(["floor"] if args.floor else []), "huashu"]
    results: dict[str, list[tuple[Measured, Measured]]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory(prefix="huashu-bench-") as tmp, contextlib.ExitStack() as servers:
        workdir = Path(tmp)
        targets: list[tuple[str, Callable[[str], Awaitable[Any]], str, Process]] = []
        for name in names:
            if name == "huashu":
                server = huashu_server(
                    workdir, workers=args.workers, database_url=args.database_url, redis_url=args.redis_url
                )
                factory, path = Conversation.open, "/ws/chat"
            else:
                server = reference_server(name, workdir, args.max_size, workers=args.workers)
                factory, path = (Echo.open, "/ws/echo") if name == "echo" else (Conversation.open, "/ws/chat")
            servers.enter_context(server)
            targets.append((name, factory, f"ws://127.0.0.1:{server.port}{path}", server))
        for round_number in range(1, args.rounds + 1):
            for name, factory, url, server in targets:
                assert server.popen is not None
                full, calm = asyncio.run(measure(factory, url, server.popen.pid, args))
                results[name].append((full, calm))
                print(
                    f"round {round_number} {name:6}: saturated {full.rate:8.0f}/s "
                    f"p50 {full.percentile(50):7.1f} ms p99 {full.percentile(99):7.1f} ms | "
                    f"paced {calm.rate:6.0f}/s p50 {calm.percentile(50):6.1f} ms "
                    f"p99 {calm.percentile(99):6.1f} ms | server CPU {full.server_us_per_turn:5.0f} µs/turn, "
                    f"client {full.client_us_per_turn:4.0f} | errors {full.errors + calm.errors}",
                    flush=True,
                )
    report(args, {name: summary(rounds) for name, rounds in results.items()})
    return 0


def summary(rounds: list[tuple[Measured, Measured]]) -> dict[str, float]:
    return {
        "saturated_rate": median([f.rate for f, _ in rounds]),
        "saturated_p50": median([f.percentile(50) for f, _ in rounds]),
        "saturated_p99": median([f.percentile(99) for f, _ in rounds]),
        "paced_rate": median([c.rate for _, c in rounds]),
        "paced_p50": median([c.percentile(50) for _, c in rounds]),
        "paced_p99": median([c.percentile(99) for _, c in rounds]),
        "errors": sum(f.errors + c.errors for f, c in rounds),
        "server_us": median([f.server_us_per_turn for f, _ in rounds]),
        "client_us": median([f.client_us_per_turn for f, _ in rounds]),
    }


def report(args: argparse.Namespace, s: dict[str, dict[str, float]]) -> None:
    """A markdown table: echo, the floor if measured, Huashu, and each one's ratio to echo."""
    columns = {"echo": "echo (bare FastAPI)", "floor": "protocol floor", "huashu": "Huashu bot turns"}
    shown = [name for name in columns if name in s]
    echo = s["echo"]

    def ratio(name: str, key: str, inverse: bool = False) -> str:
        a, b = (echo[key], s[name][key]) if inverse else (s[name][key], echo[key])
        return f"{a / b:.0%}" if b else "n/a"

    def row(label: str, cell: Callable[[str], str], ratios: Callable[[str], str] | None = None) -> str:
        cells = [cell(name) for name in shown]
        cells += [ratios(name) if ratios else "" for name in shown if name != "echo"]
        return f"| {label} | " + " | ".join(cells) + " |"

    print()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {platform.system()}"
    )
    print(
        f"{args.conversations} concurrent connections, {args.rounds} rounds (medians), "
        f"paced at one message per {args.think:g} s each; {args.workers} worker(s) per server, "
        f"Huashu on {'SQLite' if not args.database_url else args.database_url.split(':')[0]}"
        f"{' + Redis bus' if args.redis_url else ''}"
    )
    header = [columns[name] for name in shown] + [f"{name} / echo" for name in shown if name != "echo"]
    print("| | " + " | ".join(header) + " |")
    print("| --- " * (len(header) + 1) + "|")
    print(
        row(
            "saturated throughput (msg/s, turns/s)",
            lambda n: f"{s[n]['saturated_rate']:,.0f}",
            lambda n: ratio(n, "saturated_rate"),
        )
    )
    print(
        row(
            "saturated p50 / p99 (ms)", lambda n: f"{s[n]['saturated_p50']:.1f} / {s[n]['saturated_p99']:.1f}"
        )
    )
    print(row("paced throughput", lambda n: f"{s[n]['paced_rate']:,.0f}"))
    print(row("paced p50 / p99 (ms)", lambda n: f"{s[n]['paced_p50']:.1f} / {s[n]['paced_p99']:.1f}"))
    print(
        row(
            "server CPU per message / turn, saturated (µs)",
            lambda n: f"{s[n]['server_us']:.0f}",
            lambda n: ratio(n, "server_us", inverse=True),
        )
    )
    print(row("load generator CPU per message / turn (µs)", lambda n: f"{s[n]['client_us']:.0f}"))
    print(row("errors", lambda n: f"{s[n]['errors']:.0f}"))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
