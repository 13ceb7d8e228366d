"""Benchmark a pack's first `Analyzer.load()` in a fresh process, with and without the model cache.

    python bench/startup_bench.py [--runs N] [--scripts DIR]

Each run is a new Python process (imports included, as a worker or CLI start pays them). Runs alternate
between `HUASHU_MODEL_CACHE=off` (the intent model is fit) and a cache folder filled by one warm-up
process (the fitted model is read), so both see the same machine load; medians and their ratio are printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_LOAD = (
    "import sys, time; started = time.perf_counter(); from pathlib import Path; "
    "from app.nlu.analyzer import Analyzer; Analyzer.load(Path(sys.argv[1]), cache_size=0); "
    "print(time.perf_counter() - started)"
)


def load_seconds(scripts: Path, cache: str) -> float:
    environment = {**os.environ, "HUASHU_MODEL_CACHE": cache, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", _LOAD, str(scripts)], env=environment, cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return float(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="processes per variant (default 7)")
    parser.add_argument("--scripts", type=Path, default=ROOT / "scripts_zh", help="the pack's scripts folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="huashu-startup-") as cache:
        load_seconds(args.scripts, cache)  # fills the cache
        fitted: list[float] = []
        read: list[float] = []
        for _ in range(args.runs):
            fitted.append(load_seconds(args.scripts, "off"))
            read.append(load_seconds(args.scripts, cache))
    fit_median, read_median = statistics.median(fitted), statistics.median(read)
    print(f"pack {args.scripts} ({args.runs} runs each, alternating; load average {os.getloadavg()[0]:.1f})")
    print(f"model fit at load (cache off): median {fit_median:.2f} s  (min {min(fitted):.2f}, max {max(fitted):.2f})")
    print(f"model read from the cache:     median {read_median:.2f} s  (min {min(read):.2f}, max {max(read):.2f})")
    print(f"ratio cached / fit: {read_median / fit_median:.2f}")


if __name__ == "__main__":
    main()
