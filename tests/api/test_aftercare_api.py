"""After the chat, through the service (SQLite and PostgreSQL): the rating at close, promises tracked
until kept, the complaint record from the first message to the return visit, and all of it in the export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.api.wire import ALICE, Connect, of_type, only

pytestmark = pytest.mark.timeout(60)
UNKNOWN_ORDER = "我的快递到哪了,订单号202611189999"  # not in the demo orders: the look-up fails, the bot promises


def close(customer: object, conversation: str = "c-bye") -> list[dict[str, object]]:
    return customer.exchange({"type": "message", "id": conversation, "text": "没有了,谢谢"})  # type: ignore[attr-defined, no-any-return]


# ---------------------------------------------------------------- satisfaction


def test_a_rating_sent_at_close_is_acked_stored_with_the_conversation_and_aggregated(
    connect: Connect, client: TestClient
) -> None:
    since = datetime.now(UTC).isoformat()
    with connect.started() as (customer, frames):
        conversation_id = only(frames, "started")["conversation_id"]
        customer.exchange({"type": "message", "id": "c-1", "text": "退货政策是怎样的?"})
        replies = of_type(close(customer), "reply")
        assert replies[-1]["phrase_id"] == "survey.ask"  # the flow asks for the rating

        ack = only(customer.exchange({"type": "rate", "id": "r-1", "score": 4, "comment": "回复挺快的"}), "ack")
        again = only(customer.exchange({"type": "rate", "id": "r-1", "score": 4, "comment": "回复挺快的"}), "ack")

    assert ack == {"type": "ack", "id": "r-1", "seq": ack["seq"]} and again["seq"] == ack["seq"]
    stored = client.get(f"/api/conversations/{conversation_id}", headers=ALICE).json()
    assert stored["rating"]["score"] == 4 and stored["rating"]["comment"] == "回复挺快的"
    assert datetime.fromisoformat(stored["rating"]["at"]).tzinfo is not None
    assert [m["text"] for m in stored["messages"]].count("customer rated 4") == 1  # the resend stored nothing
    summary = client.get("/api/ratings/summary", params={"since": since}, headers=ALICE).json()
    assert (summary["count"], summary["average"], summary["csat"]) == (1, 4.0, 1.0)
    assert summary["by_agent"] == [{"key": "bot", "count": 1, "average": 4.0, "csat": 1.0,
                                    "scores": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}}]
    assert [g["key"] for g in summary["by_flow"]] == ["default"]
    assert [g["key"] for g in summary["by_intent"]] == ["policy"]
    assert len(summary["by_day"]) == 1


def test_a_phone_customer_rates_with_a_digit(connect: Connect, client: TestClient) -> None:
    with connect.started(channel="phone") as (customer, frames):
        conversation_id = only(frames, "started")["conversation_id"]
        close(customer)
        frames = customer.exchange({"type": "message", "id": "c-digit", "text": "5"})

    assert only(frames, "reply")["phrase_id"] == "survey.thanks"
    stored = client.get(f"/api/conversations/{conversation_id}", headers=ALICE).json()
    assert stored["rating"]["score"] == 5 and stored["ended_at"] is not None  # rated, still ended


def test_a_rating_out_of_range_or_before_start_is_refused(connect: Connect) -> None:
    with connect.customer() as customer:
        assert only(customer.exchange({"type": "rate", "score": 5}), "error")["code"] == "not_started"
    with connect.started() as (customer, _):
        error = only(customer.exchange({"type": "rate", "score": 6}), "error")
    assert error["code"] == "invalid_field" and "score" in error["message"]


# ---------------------------------------------------------------- commitments


def test_a_promise_after_a_failed_look_up_is_tracked_until_overdue(connect: Connect, client: TestClient) -> None:
    with connect.started() as (customer, frames):
        conversation_id = only(frames, "started")["conversation_id"]
        replies = of_type(customer.exchange({"type": "message", "id": "c-1", "text": UNKNOWN_ORDER}), "reply")
    promise = next(r for r in replies if str(r["phrase_id"]).startswith("promise."))

    listed = client.get("/api/commitments", params={"conversation_id": conversation_id}, headers=ALICE).json()
    (item,) = listed["items"]
    assert item["status"] == "open" and item["source"] == "action_failed" and item["promised_by"] == "bot"
    assert item["what"] in promise["text"] and item["seq"] == promise["seq"]
    made, due = datetime.fromisoformat(item["made_at"]), datetime.fromisoformat(item["due_at"])
    assert due - made == timedelta(hours=24)  # "24小时内" (the pack's response_time)

    services = client.app.state.huashu  # type: ignore[attr-defined]
    services.conversations.clock = lambda: due + timedelta(minutes=1)  # the injected clock: a day later
    overdue = client.get("/api/commitments", params={"status": "overdue"}, headers=ALICE).json()["items"]
    assert item["id"] in [c["id"] for c in overdue]
    metrics = client.get("/metrics").text
    assert 'huashu_commitments{status="overdue"}' in metrics
    qa = client.get(f"/api/conversations/{conversation_id}/qa", headers=ALICE).json()
    finding = next(f for f in qa["findings"] if f["rule"] == "commitment.overdue")
    assert qa["turns"][finding["turn"]]["text"] == promise["text"]  # pointed at the turn that promised


def test_an_agents_own_promise_is_tracked_and_marked_done_by_whom(connect: Connect, client: TestClient) -> None:
    with connect.started(mode="human") as (customer, frames):
        conversation_id = only(frames, "started")["conversation_id"]
        customer.exchange({"type": "message", "id": "c-1", "text": "洗衣机不脱水了,能上门看看吗"})
        with connect.agent(conversation_id) as agent:
            agent.barrier()
            agent.exchange({"type": "message", "id": "a-1", "text": "亲,已经给您登记了,明天上午师傅上门给您检测哈"})
            agent.exchange({"type": "message", "id": "a-2", "text": "请您明天上午在家等候"})  # the customer's part

    (item,) = client.get("/api/commitments", params={"conversation_id": conversation_id}, headers=ALICE).json()["items"]
    assert (item["promised_by"], item["source"], item["window"]) == ("alice", "free_text", "明天上午")
    done = client.post(f"/api/commitments/{item['id']}/done", headers=ALICE).json()
    assert done["status"] == "done" and done["done_by"] == "alice" and done["done_at"] is not None
    assert client.post("/api/commitments/nope/done", headers=ALICE).json()["code"] == "not_found"
    assert client.get("/api/commitments").status_code == 401


# ---------------------------------------------------------------- the complaint record


def test_a_complaint_opens_a_record_that_follows_the_process_to_the_return_visit(
    connect: Connect, client: TestClient
) -> None:
    with connect.started() as (customer, frames):
        conversation_id = only(frames, "started")["conversation_id"]
        customer.exchange({"type": "message", "id": "c-1", "text": "送货师傅把地板刮坏了,你们得给个说法"})

    listed = client.get("/api/complaints", params={"status": "received"}, headers=ALICE).json()["items"]
    (record,) = [c for c in listed if c["conversation_id"] == conversation_id]
    assert record["channel"] == "online" and "地板刮坏" in record["description"]
    path = f"/api/complaints/{record['id']}/transition"

    skipped = client.post(path, json={"to": "resolved"}, headers=ALICE)
    assert skipped.status_code == 409 and skipped.json()["code"] == "transition_refused"
    assert "the next status is 'recorded'" in skipped.json()["message"]
    assert client.post(path, json={"to": "recorded", "people": ["王女士", "配送员李师傅"]}, headers=ALICE).status_code == 200
    assert client.post(path, json={"to": "investigating", "note": "联系配送站核实"}, headers=ALICE).status_code == 200
    missing = client.post(path, json={"to": "resolved"}, headers=ALICE)
    assert missing.status_code == 409 and "resolution" in missing.json()["message"]
    resolved = client.post(path, json={"to": "resolved", "resolution": "上门修复划痕并补偿50元"}, headers=ALICE)
    assert resolved.json()["status"] == "resolved"
    visits = f"/api/complaints/{record['id']}/return-visits"
    assert client.post(visits, json={"due_at": "2026-12-10T10:00:00+08:00"}, headers=ALICE).status_code == 200
    visited = client.post(f"{visits}/outcome", json={"outcome": "客户表示满意", "satisfied": True}, headers=ALICE).json()
    final = client.post(path, json={"to": "feedback_given", "customer_feedback": "满意"}, headers=ALICE).json()

    assert visited["return_visits"][0]["outcome"] == "客户表示满意"
    assert [step["status"] for step in final["timeline"]] == [
        "received", "recorded", "investigating", "resolved", "resolved", "resolved", "feedback_given"]
    assert final["people"] == ["王女士", "配送员李师傅"] and final["timeline"][1]["by"] == "alice"
    closed = client.post(path, json={"to": "feedback_given"}, headers=ALICE)
    assert closed.status_code == 409 and "closed" in closed.json()["message"]
    assert client.get("/api/complaints/nope", headers=ALICE).status_code == 404


def test_the_export_carries_the_rating_the_commitments_and_the_complaint(connect: Connect, client: TestClient) -> None:
    with connect.started() as (customer, frames):
        conversation_id = only(frames, "started")["conversation_id"]
        customer.exchange({"type": "message", "id": "c-1", "text": UNKNOWN_ORDER})
        customer.exchange({"type": "message", "id": "c-2", "text": "你们服务太差了,我要投诉,电话13812345678"})
        customer.exchange({"type": "rate", "score": 2, "comment": "打13812345678找不到人"})

    exported = client.get(f"/api/conversations/{conversation_id}/export", headers=ALICE).json()
    aftercare = exported["aftercare"]
    assert aftercare["rating"]["score"] == 2 and "13812345678" not in aftercare["rating"]["comment"]
    assert aftercare["commitments"] and all(c["status"] == "open" for c in aftercare["commitments"])
    assert all(exported["turns"][c["turn"]]["text"].find(c["what"]) >= 0 for c in aftercare["commitments"])
    assert aftercare["complaint"]["status"] == "received" and "13812345678" not in aftercare["complaint"]["description"]
    raw = client.get(f"/api/conversations/{conversation_id}/export", params={"raw": "true"}, headers=ALICE).json()
    assert "13812345678" in raw["aftercare"]["rating"]["comment"]
