"""Service benchmark: one bot turn through `ConversationService` in-process, without sockets.

    .venv/bin/python bench/service_bench.py [--conversations 1000] [--turns 5] [--rounds 5]
                                            [--paced-turns 3] [--think 20] [--database-url URL]

Where a WebSocket turn's server time goes, short of the sockets. The services are the ones
`huashu serve` opens (`app.main.open_services`: a temporary SQLite file with WAL and
synchronous=FULL, group commit, the demo orders in the database, the action runner, the
in-process hub); `--conversations` conversations run concurrently on one event loop, each sending
its next message as soon as its previous turn is stored and its frames are encoded and handed to
the hub (a subscriber stands in for the socket and keeps nothing).

The baseline, measured in the same run, is the engine alone on the same conversations and
messages: `step_with_actions` with the demo orders in a dict, nothing stored, no frames. The
difference is what the service adds: rows, the durable append, the database read of the demo
action, frames. Reported per turn, medians over the rounds: CPU time of the whole process, and
on Linux of each thread (the event loop, the store's writer thread, the read threads).

Then, once, the paced load of `ws_bench.py` in-process: every conversation sends one message
every `--think` seconds (random phase); a turn's latency runs from its scheduled time until it is
stored and its frames handed to the hub. Without sockets and the load generator's share of the
CPUs, its tail is the server's own (this is how commits that also ran a WAL checkpoint were found).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot_turns import MESSAGES  # noqa: E402 - the same messages as ws_bench.py
from proc_stat import read_stat  # noqa: E402

from app.api.hub import Delivery  # noqa: E402
from app.api.service import ConversationService, Live  # noqa: E402
from app.config import Settings  # noqa: E402
from app.driver import build_runner, step_with_actions  # noqa: E402
from app.engine.events import CustomerSaid  # noqa: E402
from app.heap import serving_gc  # noqa: E402
from app.main import open_services  # noqa: E402
from app.runtime import build_engine  # noqa: E402

AT = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
THREAD_GROUPS = {"MainThread": "event loop", "huashu-store-writer": "store writer"}  # others: reads


class Sink:
    """A hub subscriber standing in for a socket: counts what it is sent."""

    audience: Literal["customer", "agent"] = "customer"

    def __init__(self, id: str) -> None:
        self.id = id
        self.frames = 0

    def deliver(self, delivery: Delivery) -> None:
        self.frames += 1


@dataclass
class Measured:
    cpu_us: float  # per turn, the whole process
    wall_us: float  # per turn
    threads_us: dict[str, float]  # per turn, by THREAD_GROUPS (Linux only)


def thread_cpu() -> dict[str, float]:
    """CPU seconds each group of this process's threads has used (from /proc; empty elsewhere)."""
    tasks = Path("/proc/self/task")
    if not tasks.is_dir():
        return {}
    names = {thread.native_id: thread.name for thread in threading.enumerate()}
    used: dict[str, float] = defaultdict(float)
    for task in tasks.iterdir():
        if (stat := read_stat(task / "stat")) is not None:
            used[THREAD_GROUPS.get(names.get(int(task.name), ""), "reads")] += stat[1]
    return used


class Conversations:
    """`count` bot conversations started on the services `huashu serve` opens, a `Sink` each."""

    def __init__(self, service: ConversationService, sinks: list[Sink], lives: list[Live]) -> None:
        self.service, self.sinks, self.lives = service, sinks, lives

    @classmethod
    @asynccontextmanager
    async def started(cls, settings: Settings, count: int) -> AsyncIterator[Conversations]:
        async with AsyncExitStack() as stack:
            services = await open_services(settings, stack)
            stack.enter_context(serving_gc())
            service = services.conversations
            sinks = [Sink(f"sink-{n}") for n in range(count)]
            lives = [
                await service.start(flow=None, mode="bot", channel="online", customer=None, subscriber=sink)
                for sink in sinks
            ]
            yield cls(service, sinks, lives)

    async def say(self, index: int, turn: int) -> None:
        """Conversation `index`'s message number `turn`, until it is stored and its frames handed on."""
        text = MESSAGES[turn % len(MESSAGES)]
        await self.service.customer_message(self.lives[index].id, f"m{turn}", text, origin=self.sinks[index].id)

    def frames(self) -> int:
        return sum(sink.frames for sink in self.sinks)


async def service_round(settings: Settings, conversations: int, turns: int) -> Measured:
    async with Conversations.started(settings, conversations) as started:

        async def talk(index: int) -> None:
            for turn in range(turns):
                await started.say(index, turn)

        threads, frames = thread_cpu(), started.frames()
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(talk(n) for n in range(conversations)))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        done = conversations * turns
        if started.frames() - frames < 2 * done:
            raise RuntimeError("a turn was not told: every turn must deliver its ack and at least one reply")
        by_thread = {name: 1e6 * (used - threads.get(name, 0.0)) / done for name, used in thread_cpu().items()}
        return Measured(1e6 * cpu / done, 1e6 * wall / done, by_thread)


async def paced_round(settings: Settings, conversations: int, turns: int, think_s: float) -> list[float]:
    """Latencies (seconds) of `turns` paced turns per conversation, each from its scheduled time."""
    async with Conversations.started(settings, conversations) as started:
        latencies: list[float] = []
        start = time.perf_counter() + 0.5

        async def talk(index: int) -> None:
            phase = random.random() * think_s
            for turn in range(turns):
                due = start + phase + turn * think_s
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                await started.say(index, turn)
                latencies.append(time.perf_counter() - due)

        await asyncio.gather(*(talk(n) for n in range(conversations)))
        return latencies


async def engine_round(settings: Settings, conversations: int, turns: int) -> float:
    """CPU µs per turn of the engine alone: the same turns, the demo orders from a dict, nothing stored."""
    engine = build_engine(settings)
    runner = build_runner(settings)  # no store given: the demo orders come from the demo file, in memory
    states = [engine.start(f"bench-{n}", mode="bot", at=AT).conversation for n in range(conversations)]
    cpu = time.process_time()
    for turn in range(turns):
        text = MESSAGES[turn % len(MESSAGES)]
        for n, conversation in enumerate(states):
            results = await step_with_actions(engine, runner, conversation, CustomerSaid(text, f"m{turn}", AT))
            states[n] = results[-1].conversation
    return 1e6 * (time.process_time() - cpu) / (conversations * turns)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--paced-turns", type=int, default=3, help="paced turns per conversation (0: none)")
    parser.add_argument("--think", type=float, default=20.0, help="seconds between a conversation's paced turns")
    parser.add_argument(
        "--database-url", help="default: a temporary SQLite file per round (PostgreSQL: run `huashu db upgrade` first)"
    )
    args = parser.parse_args()

    rounds: list[Measured] = []
    baselines: list[float] = []
    for round_no in range(1, args.rounds + 1):
        with tempfile.TemporaryDirectory(prefix="huashu-service-bench-") as workdir:
            settings = Settings(database_url=args.database_url or f"sqlite:///{Path(workdir) / 'bench.db'}")
            measured = asyncio.run(service_round(settings, args.conversations, args.turns))
            baseline = asyncio.run(engine_round(settings, args.conversations, args.turns))
        rounds.append(measured)
        baselines.append(baseline)
        threads = ", ".join(f"{name} {us:.0f}" for name, us in sorted(measured.threads_us.items()))
        print(
            f"round {round_no}: service {measured.cpu_us:7.1f} µs CPU/turn ({threads}),"
            f" {1e6 / measured.wall_us:,.0f} turns/s | engine alone {baseline:6.1f} µs CPU/turn",
            flush=True,
        )

    base = statistics.median(baselines)
    cpu = statistics.median(r.cpu_us for r in rounds)
    rate = statistics.median(1e6 / r.wall_us for r in rounds)
    groups = sorted({name for r in rounds for name in r.threads_us})
    print()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()};"
        f" {args.conversations} concurrent conversations × {args.turns} turns, medians of {args.rounds} rounds"
    )
    print("| what | CPU µs per turn | turns/s |")
    print("| --- | --- | --- |")
    print(f"| engine alone: NLU, script, reply, demo action from a dict (baseline) | {base:.0f} | |")
    print(f"| service turn (engine, rows, durable append, demo action from the database, frames) | {cpu:.0f} | {rate:,.0f} |")
    for name in groups:
        print(f"| … of which the {name} thread(s) | {statistics.median(r.threads_us.get(name, 0.0) for r in rounds):.0f} | |")
    print(f"| service / engine alone | {cpu / base:.1f}× | |")

    if args.paced_turns > 0:
        with tempfile.TemporaryDirectory(prefix="huashu-service-bench-") as workdir:
            settings = Settings(database_url=args.database_url or f"sqlite:///{Path(workdir) / 'bench.db'}")
            latencies = sorted(asyncio.run(paced_round(settings, args.conversations, args.paced_turns, args.think)))
        rate = args.conversations / args.think

        def ms(quantile: float) -> str:
            return f"{1e3 * latencies[round(quantile * (len(latencies) - 1))]:.1f}"

        print()
        print(f"paced: {len(latencies)} turns at {rate:g} turns/s, in-process, latency from the scheduled time")
        print("| p50 | p90 | p99 | max |")
        print("| --- | --- | --- | --- |")
        print(f"| {ms(0.5)} ms | {ms(0.9)} ms | {ms(0.99)} ms | {ms(1.0)} ms |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
