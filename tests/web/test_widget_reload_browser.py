"""A page reload in the middle of a chat keeps every line (issue 13: 7 lines before a reload, 1 after), in
a real browser: Playwright driving Debian's Chromium against a real server."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.server import Server
from tests.browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.timeout(120)]



def test_a_reload_mid_chat_keeps_every_line_once(server: Server, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 420, "height": 720})
    page.goto(f"{server.http}/")
    page.wait_for_selector("#log .bot .msg")  # the greeting
    for text in ("我的快递到哪了", "订单号202611180001", "<b>没有了</b>,谢谢"):
        page.fill("#text", text)
        page.press("#text", "Enter")
        page.wait_for_function("() => !document.querySelector('#log .pending')")
        page.wait_for_timeout(300)
    before = page.locator("#log .msg").all_inner_texts()
    assert len(before) >= 7 and "<b>没有了</b>,谢谢" in before  # hostile text shown as text
    page.reload()
    page.wait_for_function(f"() => document.querySelectorAll('#log .msg').length >= {len(before)}")
    page.wait_for_timeout(500)  # anything duplicated would have arrived by now
    after = page.locator("#log .msg").all_inner_texts()
    screenshot(page, "widget-after-reload.png")
    assert after == before
