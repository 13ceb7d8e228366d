"""The WebSocket benchmark runs end to end: its three servers start, every turn completes, the report prints.

A smoke run at a tiny scale (no figure is checked: performance is measured by running the bench).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ws_bench_measures_echo_the_protocol_floor_and_huashu_without_errors() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "ws_bench.py"),
            *("--conversations", "4", "--rounds", "1", "--turns", "2"),
            *("--paced-turns", "1", "--think", "0.2", "--floor"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert any(line.startswith("round 1 floor :") for line in lines), done.stdout
    header = next(line for line in lines if line.startswith("| | echo"))
    assert "protocol floor" in header and "floor / echo" in header and "huashu / echo" in header
    assert any(line.startswith("| errors | 0 | 0 | 0 |") for line in lines), done.stdout
