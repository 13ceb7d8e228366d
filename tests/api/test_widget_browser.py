"""The demo widget's JavaScript in headless Chromium against a real server: it connects to /ws/chat and
starts a conversation with a frame the server accepts."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.server import Server
from tests.api.wire import ALICE

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.timeout(120)]
REQUIRE_ENV = "HUASHU_REQUIRE_BROWSER"


def chromium() -> str:
    found = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if found is None:
        message = "headless Chromium not found (apt-get install -y chromium)"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but {message}", pytrace=False)
        pytest.skip(message)
    return found


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(f"sqlite:///{tmp_path / 'huashu.db'}", tmp_path).start()
    yield running
    running.stop()


def test_the_widget_page_starts_a_conversation(server: Server, tmp_path: Path) -> None:
    command = [
        chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
        "--disable-background-networking", f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=3000",
        "--dump-dom", f"{server.http}/",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert 'id="log"' in done.stdout
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        listed = httpx.get(f"{server.http}/api/conversations", headers=ALICE).json()
        if listed["total"]:
            break
        time.sleep(0.2)
    assert listed["total"] >= 1, "the page did not start a conversation"
    conversation = listed["items"][0]
    assert (conversation["mode"], conversation["state"]) == ("bot", "listen")
