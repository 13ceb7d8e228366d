"""Benchmark `Analyzer.analyze`: median and p99 microseconds per message, uncached and cached.

    python bench/nlu_bench.py [--rounds N]

The messages are the project's own labelled examples (training and held-out splits) plus longer
composite messages, so lengths range from one character to about sixty. The engine budget is a
median of at most 80 µs per analyze for typical 10-40 character messages.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.nlu.analyzer import Analyzer  # noqa: E402

TODAY = date(2026, 11, 22)
BUDGET_MEDIAN_US = 80.0
_LONGER = [
    "你好，我的订单123456789012昨天显示已签收，但是我根本没收到，快递员电话13812345678也打不通",
    "上周三买的iPhone 15 Pro屏幕有坏点，还在七天无理由期间吗？能直接换货吗",
    "发票抬头写错了，麻烦重开一张增值税专用发票，税号我发你邮箱 fin@example.com",
    "我要投诉！！！你们的售后太烂了，修了三次还没修好，再不处理我就打12315",
    "PLUS会员上个月5号自动续费扣了99元，我没同意啊，能退吗",
    "訂單號２０２６１１２００８８８什麼時候發貨？已經等了三天了",
]


def messages() -> list[str]:
    texts: list[str] = []
    for path in (ROOT / "app/nlu/data/train.jsonl", ROOT / "nlu_data/heldout.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
    return texts + _LONGER


def measure(analyzer: Analyzer, texts: list[str], rounds: int) -> list[float]:
    """Per-call wall time in µs, each message timed on its own."""
    for text in texts:  # warm-up: first calls populate OpenCC/phrase caches and CPU caches
        analyzer.analyze(text, today=TODAY)
    timings: list[float] = []
    clock = time.perf_counter_ns
    for _ in range(rounds):
        for text in texts:
            start = clock()
            analyzer.analyze(text, today=TODAY)
            timings.append((clock() - start) / 1000)
    return timings


def summary(label: str, timings: list[float]) -> str:
    timings = sorted(timings)
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    return (f"{label:<34} n={len(timings):>6}  median {statistics.median(timings):6.1f} µs  "
            f"p99 {p99:6.1f} µs  mean {statistics.fmean(timings):6.1f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description="NLU analyze() latency")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    started = time.perf_counter()
    uncached = Analyzer.load(cache_size=0)
    print(f"Analyzer.load(): {time.perf_counter() - started:.2f} s")
    texts = messages()
    typical = [t for t in texts if 10 <= len(t) <= 40]
    timings = measure(uncached, texts, args.rounds)
    print(f"{len(texts)} messages, {len(typical)} of 10-40 characters, {args.rounds} rounds")
    print(summary("uncached, all messages", timings))
    typical_timings = measure(uncached, typical, args.rounds)
    print(summary("uncached, 10-40 characters", typical_timings))
    print(summary("cached (lru on text, today)", measure(Analyzer.load(), texts, args.rounds)))
    median = statistics.median(typical_timings)
    verdict = "within" if median <= BUDGET_MEDIAN_US else "OVER"
    print(f"typical-message median {median:.1f} µs: {verdict} the {BUDGET_MEDIAN_US:.0f} µs budget")


if __name__ == "__main__":
    main()
