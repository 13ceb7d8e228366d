"""Engine benchmark: one in-process turn (NLU + transition + reply or suggestions), and memory per conversation.

    python bench/engine_bench.py [--conversations 2000] [--rounds 5]

Prints median and p99 µs per turn for bot and assist mode with the NLU's result cache off (every turn pays
for the full analysis), a baseline measured in the same run (the NLU alone, uncached), the bot turn with the
cache on, and the memory a live idle conversation costs (tracemalloc).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.config import Settings  # noqa: E402
from app.engine.conversation import Conversation  # noqa: E402
from app.engine.events import CustomerSaid  # noqa: E402
from app.engine.step import Engine  # noqa: E402
from app.nlu.analyzer import Analyzer  # noqa: E402
from app.runtime import build_engine  # noqa: E402

AT = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
# A mix of whole conversations covering the scenarios; each list is one conversation.
SCRIPTS = [
    ["你好", "手机的保修期是多久?", "没有了,谢谢"],
    ["我上周买的衣服不合适,想退货", "对的", "没有了"],
    ["你们的服务太差了!!我要投诉!", "是的", "还有个问题,发票怎么开?", "没有了,谢谢"],
    ["家里空调坏了不制冷,想报修", "不对,不是这个意思", "我是想问保修期多久", "对", "谢谢再见"],
    ["会员积分怎么兑换礼品?", "有", "运费怎么算?", "没有了"],
    ["这款手机支持无线充电吗?", "转人工"],
    ["阿巴阿巴", "怎么开增值税专用发票", "好的谢谢"],
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def time_turns(engine, conversations: int, mode: str) -> list[float]:  # type: ignore[no-untyped-def]
    samples: list[float] = []
    clock = time.perf_counter_ns
    for index in range(conversations):
        script = SCRIPTS[index % len(SCRIPTS)]
        conversation = engine.start(f"bench-{index}", mode=mode, at=AT).conversation
        for text in script:
            # Vary the text so the NLU cannot serve every turn from a cache.
            event = CustomerSaid(f"{text}{index}" if index % 2 else text, at=AT)
            started = clock()
            result = engine.step(conversation, event)
            samples.append((clock() - started) / 1000)
            conversation = result.conversation
    return samples


def time_nlu(engine, conversations: int) -> list[float]:  # type: ignore[no-untyped-def]
    samples: list[float] = []
    clock = time.perf_counter_ns
    for index in range(conversations):
        for text in SCRIPTS[index % len(SCRIPTS)]:
            text = f"{text}{index}" if index % 2 else text
            started = clock()
            engine.analyzer.analyze(text, today=AT.date())
            samples.append((clock() - started) / 1000)
    return samples


def memory_per_conversation(engine, count: int) -> float:  # type: ignore[no-untyped-def]
    """Bytes a live idle conversation costs after a few turns (its `Conversation` object and contents)."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    live: list[Conversation] = []
    for index in range(count):
        conversation = engine.start(f"mem-{index:06d}", at=AT).conversation
        for text in SCRIPTS[index % len(SCRIPTS)][:2]:
            conversation = engine.step(conversation, CustomerSaid(text, at=AT)).conversation
        live.append(conversation)
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    return grown / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--memory-conversations", type=int, default=5000)
    args = parser.parse_args()

    cached = build_engine(Settings())
    # Measure without the NLU's result cache, so every turn pays for the full analysis.
    engine = Engine(cached.content, Analyzer.load(cache_size=0))
    time_turns(engine, 200, "bot")  # warm-up

    print(f"engine turn, {args.conversations} conversations x {args.rounds} rounds (µs per turn)")
    print(f"{'what':<24}{'median':>10}{'p99':>10}{'turns':>9}")
    medians: dict[str, list[float]] = {}
    p99s: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for name, samples in (
            ("nlu only (baseline)", time_nlu(engine, args.conversations)),
            ("turn, bot mode", time_turns(engine, args.conversations, "bot")),
            ("turn, assist mode", time_turns(engine, args.conversations, "assist")),
            ("turn, bot, NLU cached", time_turns(cached, args.conversations, "bot")),
        ):
            medians.setdefault(name, []).append(statistics.median(samples))
            p99s.setdefault(name, []).append(percentile(samples, 0.99))
            count = len(samples)
    for name in medians:
        print(f"{name:<24}{statistics.median(medians[name]):>10.1f}{statistics.median(p99s[name]):>10.1f}{count:>9}")
    base = statistics.median(medians["nlu only (baseline)"])
    for name in ("turn, bot mode", "turn, assist mode"):
        print(f"{name} / nlu median ratio: {statistics.median(medians[name]) / base:.2f}")
    per = memory_per_conversation(engine, args.memory_conversations)
    print(f"memory per live idle conversation: {per:.0f} bytes ({args.memory_conversations} conversations)")


if __name__ == "__main__":
    main()
