"""The agent workspace in a real browser (Playwright driving Debian's Chromium) against a real server: a
hand-off appears in the agent's live queue with no click, is taken over, and a clicked suggestion reaches
the customer; the sidebar's open promises are marked kept (issues 13 and 14)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.server import Server
from tests.api.wire import ALICE
from tests.browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.timeout(120)]




def signed_in_agent(browser: Any, server: Server, token: str = "alice-token") -> Any:
    agent = browser.new_context(viewport={"width": 1400, "height": 800}).new_page()
    agent.goto(f"{server.http}/agent")
    agent.wait_for_selector("body[data-ready='1']")  # its texts loaded
    agent.fill("#token", token)
    agent.click("#login")
    agent.wait_for_selector("#signin", state="hidden")
    return agent


def customer_says(page: Any, text: str, bot_lines: int) -> None:
    page.fill("#text", text)
    page.press("#text", "Enter")
    page.wait_for_function(f"() => document.querySelectorAll('#log .bot .msg').length >= {bot_lines}")


def test_a_hand_off_reaches_the_queue_unasked_and_a_clicked_suggestion_reaches_the_customer(
    server: Server, browser: Any
) -> None:
    agent = signed_in_agent(browser, server)
    customer = browser.new_context(viewport={"width": 420, "height": 720}).new_page()  # a second context
    customer.goto(f"{server.http}/")
    customer.wait_for_selector("#log .bot .msg")
    customer_says(customer, "你们这个破系统,我要找人工客服!", 2)

    agent.wait_for_selector("#queue .item.awaiting.new")  # pushed: nobody clicked anything
    waiting = agent.locator("#queue .item.awaiting.new")  # (a locator: the queue redraws every second)
    assert "我要找人工客服" in waiting.inner_text()
    assert agent.title().startswith("(1) ")
    waiting.click()
    agent.wait_for_selector(".panel.active .diagram .box.current")
    agent.click(".panel.active .takeover")
    # the listening phrasings of the human who took over (before, the list was the hand-off state's)
    agent.wait_for_selector("#suggestions .sugg:first-child:has-text('倾听')")
    agent.keyboard.press("Alt+2")  # a keyboard shortcut puts the second suggestion in the box …
    second = agent.locator("#suggestions .sugg").nth(1).locator("span").nth(1).inner_text()
    assert agent.input_value(".panel.active .text") == second
    agent.locator("#suggestions .sugg").first.click()  # … and a click the first
    text = agent.input_value(".panel.active .text")
    assert text and text != second
    text += "我是alice,马上为您处理。"  # editable before sending
    agent.fill(".panel.active .text", text)
    agent.click(".panel.active .send")
    customer.wait_for_function("(said) => [...document.querySelectorAll('#log .agent .msg')].some(m => m.textContent === said)",
                               arg=text)
    screenshot(agent, "agent-workspace.png")
    assert agent.locator(".panel.active .diagram .box.current").inner_text()  # the stage, named in Chinese

    other = browser.new_context().new_page()  # a second customer: both conversations open at once
    other.goto(f"{server.http}/")
    other.wait_for_selector("#log .bot .msg")
    other_id = other.evaluate("JSON.parse(sessionStorage.getItem('huashu')).conversation_id")
    agent.locator(f"#queue .item[data-id='{other_id}']").click()
    agent.wait_for_function("() => document.querySelectorAll('#tabs button').length === 2")
    assert agent.get_attribute(".panel.active", "data-id") == other_id
    agent.locator("#tabs button").first.click()
    assert agent.get_attribute(".panel.active", "data-id") != other_id


def test_a_pasted_dev_token_line_signs_in_and_a_wrong_one_is_told_in_chinese(server: Server, browser: Any) -> None:
    page = browser.new_page()
    page.goto(f"{server.http}/agent")
    page.wait_for_selector("body[data-ready='1']")
    page.fill("#token", "nobody")
    page.click("#login")
    page.wait_for_selector("#signin-error:not(:empty)")
    assert "令牌不正确" in page.inner_text("#signin-error")
    page.fill("#token", "alice:alice-token")  # the HUASHU_AGENT_TOKENS form
    page.click("#login")
    page.wait_for_selector("#signin", state="hidden")


def test_the_sidebar_lists_the_open_promise_and_marks_it_kept(server: Server, browser: Any) -> None:
    customer = browser.new_page()
    customer.goto(f"{server.http}/")
    customer.wait_for_selector("#log .bot .msg")
    customer_says(customer, "我的快递到哪了,订单号202611189999", 3)  # not found: the bot promises an answer in 24h
    conversation_id = customer.evaluate("JSON.parse(sessionStorage.getItem('huashu')).conversation_id")

    agent = signed_in_agent(browser, server)
    agent.click(f"#queue .item[data-id='{conversation_id}']")
    promise = agent.wait_for_selector("#commitments .promise")
    assert "24小时内给您答复" in promise.inner_text()
    screenshot(agent, "agent-commitments.png")
    agent.click("#commitments .promise button")
    agent.wait_for_function("() => !document.querySelector('#commitments .promise')")

    (done,) = httpx.get(f"{server.http}/api/commitments?status=done", headers=ALICE).json()["items"]
    assert done["done_by"] == "alice"
