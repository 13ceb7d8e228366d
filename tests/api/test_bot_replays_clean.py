"""The bot's own conversations, exported as the REST export does and replayed by QA, get no finding:
the script the bot follows is the script QA checks (one flow serves both)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from app.engine.step import Engine
from app.qa.assessor import Assessor
from app.qa.rules import load_rules, rules_file
from app.transcripts import Transcript
from tests.api.wire import Connect, only

SCENARIOS = {
    "complaint": ["你们的快递员态度太差了,我要投诉", "对", "没有了,谢谢"],
    "angry": ["什么破东西,用两天就坏了,气死我了!", "对", "没有了"],
    "order_status": ["我的快递到哪了,订单号202611180001", "没有了,谢谢"],
    "order_asks_for_the_id": ["我的快递到哪了", "202611180001", "没有了,谢谢"],
    "return_refund": ["我要退货,衣服尺码不合适", "对", "没有了,谢谢"],
    "repair": ["洗衣机不脱水了,怎么报修", "是的", "没有了,谢谢"],
    "warranty": ["这个冰箱保修几年", "没有了,谢谢"],
    "policy": ["请问七天无理由退货怎么办理?", "没有了,谢谢"],
    "invoice": ["我要开增值税专用发票", "没有了谢谢"],
    "greeting_then_membership": ["你好", "会员积分怎么兑换", "没有了,谢谢"],
    "clarification": ["嗯嗯嗯", "我想问下会员积分怎么用", "不用了,谢谢"],
    "handoff": ["转人工"],
}


@pytest.fixture(scope="module")
def assessor(engine: Engine) -> Assessor:
    from app.config import Settings

    return Assessor(engine, load_rules(rules_file(Settings().scripts_dir)))


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_bots_exported_conversation_replays_with_no_finding(
    scenario: str, make_client: Callable[..., TestClient], assessor: Assessor
) -> None:
    client = make_client()
    with Connect(client).started() as (socket, frames):
        conversation_id = only(frames, "started")["conversation_id"]
        for number, text in enumerate(SCENARIOS[scenario]):
            socket.exchange({"type": "message", "id": f"m-{number}", "text": text})
    exported = client.get(f"/api/conversations/{conversation_id}/export", headers={"Authorization": "Bearer alice-token"})
    assert exported.status_code == 200
    transcript = Transcript.from_dict(exported.json())
    assert {turn.role for turn in transcript.turns} == {"customer", "bot"}
    assessment = assessor.assess(transcript)
    assert [(f.rule, f.turn) for f in assessment.findings] == [], [t.text for t in transcript.turns]
