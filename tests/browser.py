"""Headless Chromium for the browser tests (Debian's `chromium`; `./dev test` installs it when root).

Skips without it, unless HUASHU_REQUIRE_BROWSER=1 (CI), which makes a missing browser a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

REQUIRE_ENV = "HUASHU_REQUIRE_BROWSER"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"  # linked from the README
# No first-run, sync or background fetches: this machine's network is closed and they would only fail.
OFFLINE_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def chromium() -> str:
    found = next((p for p in (shutil.which("chromium"), "/usr/bin/chromium") if p and Path(p).exists()), None)
    if found is None:
        message = "headless Chromium not found (apt-get install -y chromium)"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but {message}", pytrace=False)
        pytest.skip(message)
    return found


def dump_dom(url: str, profile: Path, *extra: str, timeout: float = 120) -> str:
    """The DOM after Chromium loaded `url` (with `extra` flags, e.g. a virtual time budget for scripts)."""
    command = [chromium(), *OFFLINE_FLAGS, f"--user-data-dir={profile}", *extra, "--dump-dom", url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def screenshot(page: Any, name: str, **options: Any) -> None:
    """Save what a Playwright page shows as docs/screenshots/`name`."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), **options)
