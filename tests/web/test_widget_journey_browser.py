"""The widget as a customer uses it, in a real browser (Playwright driving Debian's Chromium) against a real
server: from the greeting to the rating with quick replies and timestamps, a dropped connection that resumes
without duplicates, and the one-script-tag launcher with its unread badge (issue 13)."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.server import Server
from tests.api.wire import ALICE
from tests.browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.timeout(120)]
BOT_LINES = "() => document.querySelectorAll('#log .bot .msg').length"




def wait_for_bot_lines(page: Any, count: int) -> None:
    page.wait_for_function(f"() => ({BOT_LINES})() >= {count}")


def test_a_conversation_from_the_greeting_to_the_rating(server: Server, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 420, "height": 760})
    page.goto(f"{server.http}/")
    wait_for_bot_lines(page, 1)
    assert page.locator("#log .row.bot .time").first.inner_text()  # every line has its time
    page.fill("#text", "我买的衣服有个破洞,想退货")
    page.press("#text", "Enter")
    wait_for_bot_lines(page, 2)

    quick = page.locator("#quick button")  # the restatement expects a yes or a no
    assert quick.all_inner_texts() == ["对,是这样", "不对"]
    quick.first.click()
    wait_for_bot_lines(page, 4)
    page.locator("#quick button", has_text="没有了,谢谢").click()
    page.wait_for_selector("#ended.shown")
    assert page.locator("#form").is_hidden() and not page.locator("#typing").is_visible()
    page.click("#stars button[data-score='4']")
    page.fill("#comment", "退货说明很清楚")
    page.click("#rate")
    page.wait_for_selector("#rated:not([hidden])")
    screenshot(page, "widget-rated.png")

    conversation_id = page.evaluate("JSON.parse(sessionStorage.getItem('huashu')).conversation_id")
    stored = httpx.get(f"{server.http}/api/conversations/{conversation_id}", headers=ALICE).json()
    assert stored["rating"]["score"] == 4 and stored["rating"]["comment"] == "退货说明很清楚"
    assert [m["role"] for m in stored["messages"]].count("customer") == 3

    page.click("#restart")  # a new conversation, greeted again
    page.wait_for_function(f"() => ({BOT_LINES})() === 1 && !document.querySelector('#ended.shown')")
    assert page.evaluate("JSON.parse(sessionStorage.getItem('huashu')).conversation_id") != conversation_id


def test_a_dropped_connection_shows_a_banner_and_resumes_without_duplicates(server: Server, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 420, "height": 720})
    page.goto(f"{server.http}/")
    wait_for_bot_lines(page, 1)
    page.fill("#text", "请问七天无理由退货怎么办理?")
    page.press("#text", "Enter")
    wait_for_bot_lines(page, 3)
    before = page.locator("#log .msg").all_inner_texts()

    page.evaluate("socket.close()")  # the network drops
    page.wait_for_selector("#banner.shown", timeout=2000)
    page.fill("#text", "<img src=x onerror=alert(1)>那运费谁出?")  # written while offline: sent on reconnect
    page.press("#text", "Enter")
    page.wait_for_selector("#banner", state="hidden")  # back: the banner goes
    wait_for_bot_lines(page, 5)
    page.wait_for_timeout(500)  # anything duplicated would have arrived by now

    after = page.locator("#log .msg").all_inner_texts()
    assert after[: len(before)] == before
    assert after.count("<img src=x onerror=alert(1)>那运费谁出?") == 1  # shown once, as text
    assert page.locator("#log img").count() == 0
    conversation_id = page.evaluate("JSON.parse(sessionStorage.getItem('huashu')).conversation_id")
    stored = httpx.get(f"{server.http}/api/conversations/{conversation_id}", headers=ALICE).json()
    spoken = [m for m in stored["messages"] if m["role"] != "system"]
    assert len(after) == len(spoken)  # every stored line once on screen, nothing twice


@pytest.fixture
def shop(server: Server, tmp_path: Path) -> Iterator[str]:
    """A shop's page on another origin that embeds the widget with one script tag."""
    site = tmp_path / "shop"
    site.mkdir()
    (site / "index.html").write_text(
        f'<!doctype html><html><body><h1>Shop</h1><script src="{server.http}/widget.js"></script></body></html>',
        encoding="utf-8")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://localhost:{httpd.server_address[1]}/index.html"  # localhost: a different origin from 127.0.0.1
    httpd.shutdown()


def test_one_script_tag_adds_a_launcher_whose_badge_counts_unread_replies(server: Server, shop: str,
                                                                         browser: Any) -> None:
    assert httpx.get(f"{server.http}/favicon.ico").headers["content-type"].startswith("image/svg+xml")
    page = browser.new_page(viewport={"width": 1000, "height": 760})
    page.goto(shop)
    page.wait_for_selector("#huashu-launcher")
    page.wait_for_selector("#huashu-unread", state="visible")  # the greeting arrived while it was closed
    assert page.inner_text("#huashu-unread") == "1"

    assert page.get_attribute("#huashu-launcher", "title") == "在线客服"  # its text from the service
    page.click("#huashu-launcher")
    assert page.locator("#huashu-frame").is_visible() and page.locator("#huashu-unread").is_hidden()
    chat = page.frame_locator("#huashu-frame")
    chat.locator("#text").fill("发票怎么开?")
    chat.locator("#text").press("Enter")
    chat.locator("#log .bot .msg").nth(1).wait_for()
    screenshot(page, "widget-embedded.png")
    page.click("#huashu-launcher")
    assert page.locator("#huashu-frame").is_hidden()
