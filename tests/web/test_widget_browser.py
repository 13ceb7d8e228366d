"""The demo widget's JavaScript in headless Chromium against a real server: it connects to /ws/chat and
starts a conversation with a frame the server accepts."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.api.server import Server
from tests.api.wire import ALICE
from tests.browser import dump_dom

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.timeout(120)]



def test_the_widget_page_starts_a_conversation(server: Server, tmp_path: Path) -> None:
    dom = dump_dom(f"{server.http}/", tmp_path / "profile", "--virtual-time-budget=3000", timeout=90)
    assert 'id="log"' in dom
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        listed = httpx.get(f"{server.http}/api/conversations", headers=ALICE).json()
        if listed["total"]:
            break
        time.sleep(0.2)
    assert listed["total"] >= 1, "the page did not start a conversation"
    conversation = listed["items"][0]
    assert (conversation["mode"], conversation["state"]) == ("bot", "listen")
