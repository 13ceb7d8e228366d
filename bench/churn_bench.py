"""Connection churn: RSS of a real `huashu serve` over many connect/close cycles, per collector setting.

Each server (one uvicorn worker, SQLite, loopback) gets the same churn: open `/ws/chat`, send a ping,
read the pong, close — no conversation started (issue 16 item 1). Its resident set size is read from
/proc after every `--every` cycles; a setting that leaks keeps climbing, one that does not levels off.
The servers run one after the other in the same process run, so they are compared on the same machine.

    python bench/churn_bench.py --cycles 20000 --settings default,700:10:10,50000:20:10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ws_bench import huashu_server  # noqa: E402  (a sibling script, not a package)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def churn(url: str, pid: int, cycles: int, every: int, parallel: int, abrupt: bool) -> list[tuple[int, float]]:
    samples = [(0, rss_mb(pid))]
    done = 0

    async def one() -> None:
        ws = await connect(url, max_size=None)
        if abrupt:  # the client vanishes: no close handshake (a phone losing its network)
            ws.transport.abort()
            return
        await ws.send(json.dumps({"type": "ping"}))
        await ws.recv()
        await ws.close()

    while done < cycles:
        batch = min(every, cycles - done)
        for start in range(0, batch, parallel):
            await asyncio.gather(*(one() for _ in range(min(parallel, batch - start))))
        done += batch
        samples.append((done, rss_mb(pid)))
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cycles", type=int, default=20_000)
    parser.add_argument("--every", type=int, default=2_000)
    parser.add_argument("--parallel", type=int, default=20)
    parser.add_argument("--abrupt", action="store_true", help="clients drop the connection without a close handshake")
    parser.add_argument("--settings", default="default,700:10:10,50000:20:10",
                        help="comma-separated: `default` (app/heap.py) or young:middle:old thresholds")
    args = parser.parse_args()
    for setting in args.settings.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            server = huashu_server(Path(tmp))
            if setting != "default":
                server.env["HUASHU_GC_THRESHOLDS"] = json.dumps([int(x) for x in setting.split(":")])
            with server as running:
                assert running.popen is not None
                began = time.monotonic()
                samples = asyncio.run(churn(f"ws://127.0.0.1:{running.port}/ws/chat", running.popen.pid,
                                            args.cycles, args.every, args.parallel, args.abrupt))
                seconds = time.monotonic() - began
        last_half = [mb for _, mb in samples[len(samples) // 2:]]
        print(f"{setting:>14}: RSS MB " + " ".join(f"{mb:.0f}" for _, mb in samples)
              + f"  | growth over the second half {last_half[-1] - last_half[0]:+.0f} MB"
              + f"  | {args.cycles / seconds:.0f} cycles/s, median RSS {statistics.median(mb for _, mb in samples):.0f} MB",
              flush=True)


if __name__ == "__main__":
    main()
