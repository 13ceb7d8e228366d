"""The QA dashboard at `/qa` replays the stored conversations and shows the worst first, in a real browser:
Playwright driving Debian's Chromium against a real server. Two bot conversations follow the script; in the
third a human agent takes over and answers badly, so it scores lowest."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.api.server import Server, ws_client
from tests.api.wire import ALICE, only
from tests.browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.timeout(120)]
HOSTILE = "<b>那怎么办?</b>能赔吗"



def get(url: str) -> Any:
    request = urllib.request.Request(url, headers=ALICE)
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


async def bot_chat(server: Server, *texts: str) -> str:
    async with ws_client(f"{server.ws}/ws/chat") as customer:
        conversation_id: str = only(await customer.exchange({"type": "start"}), "started")["conversation_id"]
        for number, text in enumerate(texts):
            await customer.exchange({"type": "message", "id": f"c-{number}", "text": text})
    return conversation_id


async def badly_handled_complaint(server: Server) -> str:
    """A complaint handed to alice, who refuses bluntly and promises a follow-up without saying when."""
    async with ws_client(f"{server.ws}/ws/chat") as customer:
        conversation_id: str = only(await customer.exchange({"type": "start"}), "started")["conversation_id"]
        await customer.exchange({"type": "message", "id": "c-1", "text": "快递员把我买的花瓶摔碎了,我要投诉"})
        await customer.exchange({"type": "message", "id": "c-2", "text": "转人工"})
        async with ws_client(f"{server.ws}/ws/assist/{conversation_id}", additional_headers=ALICE) as agent:
            assert (await agent.receive())["type"] == "snapshot"
            await agent.barrier()
            await agent.exchange({"type": "takeover"})
            await customer.exchange({"type": "message", "id": "c-3", "text": HOSTILE})
            await agent.barrier()
            await agent.exchange({"type": "message", "id": "a-1", "text": "这个不可能赔,你自己没看清楚,我们会帮您反馈一下"})
        await customer.barrier()
    return conversation_id


async def three_conversations(server: Server) -> list[str]:
    return [
        await bot_chat(server, "我的快递到哪了", "订单号202611180001", "没有了,谢谢"),
        await bot_chat(server, "你们的营业时间是几点到几点"),
        await badly_handled_complaint(server),
    ]


@pytest.fixture
def stored_ids(server: Server) -> list[str]:
    """Made before the browser starts: Playwright's sync API runs an event loop of its own in this thread."""
    return asyncio.run(three_conversations(server))


def test_the_dashboard_shows_the_worst_conversation_first_and_filters_by_rule(
    server: Server, stored_ids: list[str], browser: Any
) -> None:
    ids = stored_ids
    assessments = {cid: get(f"{server.http}/api/conversations/{cid}/qa") for cid in ids}
    worst = min(ids, key=lambda cid: assessments[cid]["score"])
    assert len({a["score"] for a in assessments.values()}) > 1, assessments  # one is clearly worse
    texts = get(f"{server.http}/api/ui/qa")

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server.http}/qa")
    page.wait_for_selector("body[data-ready='1']")
    assert page.title() == texts["title"]

    page.fill("#token", "wrong-token")
    page.click("#signin")
    page.wait_for_function("(text) => document.querySelector('#signin-status').textContent === text",
                           arg=texts["signin.unauthorized"])

    page.fill("#token", "alice:alice-token")  # pasted as it appears in HUASHU_AGENT_TOKENS
    page.click("#signin")
    page.wait_for_function("(text) => document.querySelector('#signin-status').textContent === text",
                           arg=texts["signin.ok"])
    assert page.evaluate("() => sessionStorage.getItem('huashu-agent')") == "alice-token"

    page.click("#run")
    page.wait_for_function("() => document.querySelectorAll('#results tr.result').length === 3")
    page.wait_for_function("() => { const p = document.querySelector('#progress'); return p.value === p.max; }")
    rows = page.locator("#results tr.result")
    assert rows.first.get_attribute("data-id") == worst
    assert sorted(rows.evaluate_all("rows => rows.map(r => r.dataset.id)")) == sorted(ids)

    bar = page.locator("#rule-chart .bar").first
    rule = bar.get_attribute("data-rule")
    assert rule
    having = {cid for cid, a in assessments.items() if any(f["rule"] == rule for f in a["findings"])}
    bar.click()
    page.wait_for_function(f"() => document.querySelectorAll('#results tr.result').length === {len(having)}")
    assert set(rows.evaluate_all("rows => rows.map(r => r.dataset.id)")) == having
    assert page.input_value("#rule-filter") == rule

    page.locator(f"#results tr.result[data-id='{worst}']").click()
    page.wait_for_selector("#transcript .turn")
    shown = page.locator("#transcript .turn .text").all_inner_texts()
    assert len(shown) == len(assessments[worst]["turns"])
    assert HOSTILE in shown and page.locator("#transcript .turn b").count() == 0  # hostile text shown as text
    explained = page.locator(f"#transcript .finding[data-rule='{rule}']").first.inner_text()
    assert texts[f"rule.{rule}.name"] in explained and texts[f"rule.{rule}.explain"] in explained
    assert page.locator("#trend svg").count() == 1
    assert page.locator("#agents tbody tr").count() >= 1

    screenshot(page, "qa-dashboard.png", full_page=True)


GOOD = {"id": "good-1", "channel": "online", "agent": "carol", "turns": [
    {"role": "agent", "text": "您好,我是客服专员小李,请问有什么可以帮您?", "ts": "2026-11-02T09:00:00+00:00"},
    {"role": "customer", "text": "退货怎么办理?", "ts": "2026-11-02T09:00:20+00:00"},
    {"role": "agent", "text": "您可以在订单详情页申请退货,审核通过后按提示寄回即可。请问还有其他需要帮助的吗?",
     "ts": "2026-11-02T09:00:40+00:00"},
    {"role": "customer", "text": "没有了", "ts": "2026-11-02T09:01:00+00:00"},
    {"role": "agent", "text": "感谢您的咨询,祝您生活愉快,再见!", "ts": "2026-11-02T09:01:10+00:00"},
]}
BAD = {"id": "bad-1", "channel": "online", "agent": "dave", "turns": [
    {"role": "customer", "text": "东西坏了,我要投诉", "ts": "2026-11-03T10:00:00+00:00"},
    {"role": "agent", "text": "不可能,你自己弄坏的吧", "ts": "2026-11-03T10:05:00+00:00"},
    {"role": "customer", "text": "<img src=x onerror=alert(1)>算了", "ts": "2026-11-03T10:06:00+00:00"},
    {"role": "agent", "text": "我们会帮您反馈一下", "ts": "2026-11-03T10:07:00+00:00"},
]}
INVALID = {"id": "invalid-1", "channel": "fax", "turns": []}


def test_an_uploaded_jsonl_file_is_replayed_and_so_is_a_jddc_tsv_export(server: Server, tmp_path: Path, browser: Any) -> None:
    texts = get(f"{server.http}/api/ui/qa")
    upload = tmp_path / "transcripts.jsonl"
    lines = [json.dumps(item, ensure_ascii=False) for item in (GOOD, BAD, INVALID)] + ["{not json", ""]
    upload.write_text("\n".join(lines), encoding="utf-8")
    jddc = tmp_path / "jddc.tsv"
    # Two sessions in the JDDC export's seven columns (session, user, from the agent?, transferred, repeated, sku, text).
    jddc.write_text("\n".join("\t".join(row) for row in (
        ("tsv-a", "USERID_1", "0", "0", "0", "nan", "我的快递到哪了"),
        ("tsv-a", "USERID_1", "1", "0", "0", "nan", "您好,请提供一下订单号"),
        ("tsv-b", "USERID_2", "0", "0", "0", "nan", "发票怎么开"),
        ("tsv-b", "USERID_2", "1", "0", "0", "nan", "在订单详情页申请就可以了"),
    )) + "\n", encoding="utf-8")

    page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page.goto(f"{server.http}/qa")
    page.wait_for_selector("body[data-ready='1']")
    page.fill("#token", "alice-token")
    page.click("#signin")
    page.wait_for_function("(text) => document.querySelector('#signin-status').textContent === text",
                           arg=texts["signin.ok"])

    page.set_input_files("#file", str(jddc))
    page.wait_for_function("() => document.querySelectorAll('#results tr.result').length === 2")
    ids = page.locator("#results tr.result").evaluate_all("rows => rows.map(r => r.dataset.id)")
    assert sorted(ids) == ["tsv-a", "tsv-b"]

    page.set_input_files("#file", str(upload))
    page.wait_for_function("() => document.querySelectorAll('#results tr.result').length === 3")
    order = page.locator("#results tr.result").evaluate_all("rows => rows.map(r => r.dataset.id)")
    assert order == ["bad-1", "good-1", "invalid-1"]  # worst first, the one that could not be scored last
    assert page.locator("#agents tbody tr").count() == 3
    assert page.locator("#trend svg circle").count() == 2  # two days with scores

    page.locator("#results tr.result[data-id='bad-1']").click()
    page.wait_for_selector("#transcript .finding")
    assert "<img src=x onerror=alert(1)>算了" in page.locator("#transcript .turn .text").all_inner_texts()
    assert page.locator("#transcript img").count() == 0
    assert page.locator("#transcript .recommend").count() >= 1

    with page.expect_download() as download:
        page.click("#export")
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    csv_lines = data.decode("utf-8-sig").splitlines()
    assert csv_lines[0].split(",")[0] == texts["col.id"]
    assert [line.split(",")[0] for line in csv_lines[1:]] == ["bad-1", "good-1", "invalid-1"]
