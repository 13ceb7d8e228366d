"""Soak: a real `huashu serve --workers 2` over PostgreSQL and Redis, on loopback, for `--minutes`
(default 10), then it stops by itself (issue 16).

Load, all from this process:
* `--conversations` (default 1,000) customers stay connected, each starting a conversation and sending a
  message every `--interval` seconds (jittered), resending with the same id until it is acked;
* a churn task opens and drops connections without a close handshake, all the time.

Reported every minute and at the end: RSS of the server's processes (parent and workers), messages
acked per second, ack latency (median, p99), error frames by code, reconnects; at the end every
conversation is read back page by page and each acked message must be stored (`lost` must be 0).

    python bench/soak.py --minutes 10
    python bench/soak.py --minutes 1 --conversations 200      # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ws_bench import huashu_server  # noqa: E402  (a sibling script, not a package)

ROOT = Path(__file__).resolve().parents[1]
ADMIN_URL = os.environ.get("HUASHU_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("HUASHU_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TEXTS = ["我的快递到哪了", "订单号202611180001", "好的", "我想退货", "发票怎么开", "谢谢", "在吗", "转人工"]


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.acked = 0
        self.errors: Counter[str] = Counter()
        self.reconnects = 0
        self.churned = 0
        self.sent: dict[str, set[str]] = {}  # conversation id → acked client ids

    def window(self) -> tuple[int, list[float]]:
        acked, latencies = self.acked, self.latencies
        self.acked, self.latencies = 0, []
        return acked, latencies


def process_tree_rss_mb(root: int) -> float:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return total


async def customer(url: str, stats: Stats, interval: float, stop: float) -> None:
    conversation: dict[str, Any] | None = None
    number = 0
    while time.monotonic() < stop:
        try:
            async with connect(url, max_size=None, open_timeout=20) as ws:
                if conversation is None:
                    await ws.send(json.dumps({"type": "start"}))
                else:
                    await ws.send(json.dumps({"type": "resume", **conversation, "last_seq": 0}))
                    stats.reconnects += 1
                while conversation is None:
                    frame = json.loads(await ws.recv())
                    if frame["type"] == "started":
                        conversation = {"conversation_id": frame["conversation_id"], "token": frame["token"]}
                        stats.sent[frame["conversation_id"]] = set()
                    elif frame["type"] == "error":
                        stats.errors[frame["code"]] += 1
                        await asyncio.sleep(random.uniform(1, 3))
                        await ws.send(json.dumps({"type": "start"}))
                while time.monotonic() < stop:
                    await asyncio.sleep(random.uniform(0.5, 1.5) * interval)
                    client_id = f"m-{number}"
                    number += 1
                    began = time.perf_counter()
                    await ws.send(json.dumps({"type": "message", "id": client_id, "text": random.choice(TEXTS)}))
                    while True:  # until our ack (replies and notices pass by)
                        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=30))
                        if frame["type"] == "ack" and frame.get("id") == client_id:
                            stats.latencies.append(time.perf_counter() - began)
                            stats.acked += 1
                            stats.sent[conversation["conversation_id"]].add(client_id)
                            break
                        if frame["type"] == "error" and frame.get("ref") == client_id:
                            stats.errors[frame["code"]] += 1
                            await asyncio.sleep(1)
                            await ws.send(json.dumps({"type": "message", "id": client_id, "text": "重发"}))
        except (WebSocketException, OSError, TimeoutError) as exc:
            stats.errors[type(exc).__name__] += 1
            await asyncio.sleep(1)


async def churn(url: str, stats: Stats, stop: float) -> None:
    while time.monotonic() < stop:
        try:
            ws = await connect(url, max_size=None, open_timeout=20)
            ws.transport.abort()
            stats.churned += 1
        except (WebSocketException, OSError, TimeoutError):
            await asyncio.sleep(0.5)
        await asyncio.sleep(0.02)


async def lost_messages(http_url: str, stats: Stats) -> tuple[int, int]:
    lost = checked = 0
    async with httpx.AsyncClient(timeout=30, headers={"Authorization": "Bearer bench-token"}) as http:
        for conversation_id, acked in stats.sent.items():
            stored: set[str] = set()
            after = 0
            while True:
                page = (await http.get(f"{http_url}/api/conversations/{conversation_id}",
                                       params={"after_seq": after, "limit": 1000})).json()
                stored |= {m["client_message_id"] for m in page["messages"] if m["role"] == "customer"}
                if not page["has_more"]:
                    break
                after = page["next_after_seq"]
            checked += len(acked)
            lost += len(acked - stored)
    return lost, checked


async def soak(args: argparse.Namespace, ws_url: str, http_url: str, server_pid: int) -> None:
    stats = Stats()
    began = time.monotonic()
    stop = began + args.minutes * 60
    tasks = [asyncio.create_task(customer(ws_url, stats, args.interval, stop)) for _ in range(args.conversations)]
    tasks.append(asyncio.create_task(churn(ws_url, stats, stop)))
    minute = 0
    rss: list[float] = []
    all_latencies: list[float] = []
    total_acked = 0
    while time.monotonic() < stop:
        await asyncio.sleep(min(60, max(0.1, stop - time.monotonic())))
        minute += 1
        acked, latencies = stats.window()
        total_acked += acked
        all_latencies += latencies
        rss.append(process_tree_rss_mb(server_pid))
        p99 = statistics.quantiles(latencies, n=100)[98] * 1000 if len(latencies) >= 100 else float("nan")
        print(f"minute {minute}: RSS {rss[-1]:.0f} MB, {acked / 60:.1f} acked/s, ack p99 {p99:.1f} ms, "
              f"errors {dict(stats.errors)}, reconnects {stats.reconnects}, churned {stats.churned}", flush=True)
    await asyncio.gather(*tasks, return_exceptions=True)
    acked, latencies = stats.window()
    total_acked += acked
    all_latencies += latencies
    lost, checked = await lost_messages(http_url, stats)
    seconds = time.monotonic() - began
    print(f"\n{args.minutes} min, {args.conversations} conversations, 2 workers, PostgreSQL + Redis:")
    print(f"  RSS MB per minute: {' '.join(f'{mb:.0f}' for mb in rss)}")
    print(f"  acked {total_acked} messages, {total_acked / seconds:.1f}/s; ack latency median "
          f"{statistics.median(all_latencies) * 1000:.1f} ms, p99 {statistics.quantiles(all_latencies, n=100)[98] * 1000:.1f} ms")
    print(f"  errors {dict(stats.errors)}; reconnects {stats.reconnects}; churned connections {stats.churned}")
    print(f"  lost: {lost} of {checked} acked messages not stored")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between a customer's messages")
    args = parser.parse_args()
    from sqlalchemy import create_engine, text

    name = f"huashu_soak_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            server = huashu_server(Path(tmp), workers=2, database_url=database_url, redis_url=REDIS_URL)
            with server as running:
                assert running.popen is not None
                asyncio.run(soak(args, f"ws://127.0.0.1:{running.port}/ws/chat",
                                 f"http://127.0.0.1:{running.port}", running.popen.pid))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
