"""The agent sidebar shows a conversation's open promises and marks one kept (issue 14), in a real browser:
Playwright driving Debian's Chromium against a real server."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.server import Server
from tests.browser import OFFLINE_FLAGS, chromium

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.timeout(120)]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(f"sqlite:///{tmp_path / 'huashu.db'}", tmp_path).start()
    yield running
    running.stop()


def get(url: str) -> dict[str, object]:
    request = urllib.request.Request(url, headers={"Authorization": "Bearer alice-token"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())  # type: ignore[no-any-return]


def test_the_sidebar_lists_the_open_promise_and_marks_it_kept(server: Server) -> None:
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(),
                                             args=[flag for flag in OFFLINE_FLAGS if flag != "--headless"])
        widget = browser.new_page()
        widget.goto(f"{server.http}/")
        widget.wait_for_selector("#log .bot .msg")
        widget.fill("#text", "我的快递到哪了,订单号202611189999")  # not found: the bot promises an answer in 24h
        widget.press("#text", "Enter")
        widget.wait_for_function("() => [...document.querySelectorAll('#log .bot .msg')].some(m => m.textContent.includes('24小时'))")

        agent = browser.new_page(viewport={"width": 1280, "height": 720})
        agent.goto(f"{server.http}/agent")
        agent.fill("#token", "alice-token")
        agent.click("#refresh")
        agent.click("#list .conv >> nth=0")
        promise = agent.wait_for_selector("#commitments .promise")
        assert "24小时内给您答复" in promise.inner_text()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        agent.screenshot(path=str(SCREENSHOTS / "agent-commitments.png"))
        agent.click("#commitments .promise button")
        agent.wait_for_function("() => !document.querySelector('#commitments .promise')")
        browser.close()

    (done,) = get(f"{server.http}/api/commitments?status=done")["items"]  # type: ignore[misc]
    assert done["done_by"] == "alice"
