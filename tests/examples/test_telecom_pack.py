"""examples/telecom: a second business taught as data alone — checked, measured, and served."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from app.config import PROJECT_ROOT, Settings
from app.engine.events import CustomerSaid
from app.engine.step import Engine
from app.runtime import build_engine
from tests.api.server import Server, ws_client
from tests.api.wire import of_type, only

TELECOM = PROJECT_ROOT / "examples" / "telecom"
HELDOUT = TELECOM / "nlu_data" / "heldout.jsonl"
TELECOM_INTENTS = {"plan_change", "data_usage", "bill_query", "broadband_fault", "number_porting", "roaming",
                   "recharge", "greeting", "complaint", "handoff", "thanks_bye", "other"}
# Measured 91.7% (110/120) the first time it was run, untuned (docs/nlu.md); the issue's target is 95%.
HELDOUT_FLOOR = 0.9

runner = CliRunner()


@pytest.fixture(autouse=True)
def _pack_setting_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUASHU_PACK", "")


@pytest.fixture(scope="module")
def engine() -> Engine:
    return build_engine(Settings(pack=TELECOM))


def bot_says(engine: Engine, *messages: str) -> list[list[str]]:
    """The phrase ids the bot answers each message with (the greeting first)."""
    started = engine.start("t-1", mode="bot")
    said = [[r.phrase_id for r in started.replies]]
    conversation = started.conversation
    for text in messages:
        result = engine.step(conversation, CustomerSaid(text))
        said.append([r.phrase_id for r in result.replies])
        conversation = result.conversation
    return said


def test_the_telecom_pack_passes_huashu_check() -> None:
    result = runner.invoke(app, ["check", "--pack", str(TELECOM), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ok"] is True


def test_the_telecom_pack_declares_the_issues_intents_with_200_examples(engine: Engine) -> None:
    assert set(engine.content.intents) == TELECOM_INTENTS
    assert sum(len(spec.examples) for spec in engine.content.intents.values()) >= 200
    assert min(len(spec.examples) for spec in engine.content.intents.values()) >= 10


def test_a_broadband_fault_is_restated_then_promised_a_repair_time(engine: Engine) -> None:
    greeting, fault, yes, bye = bot_says(engine, "家里宽带连不上网了 光猫一闪一闪亮红灯", "对的", "没有了谢谢")
    assert greeting == ["greeting.standard"]
    assert fault == ["confirm.broadband_fault"]
    assert yes == ["promise.broadband_repair", "close-check.standard"]
    assert bye == ["farewell.standard", "survey.ask"]


@pytest.mark.parametrize(("question", "answer"), [
    ("我想把套餐换成便宜点的", "answer.plan_change.how"),
    ("这个月话费怎么多扣了30块", "answer.bill_query.dispute"),
    ("携号转网需要满足啥条件", "answer.number_porting.conditions"),
    ("下个月去日本 国际漫游怎么开通", "answer.roaming.open"),
    ("用支付宝怎么充话费", "answer.recharge.channels"),
])
def test_questions_are_answered_from_the_telecom_facts(engine: Engine, question: str, answer: str) -> None:
    said = bot_says(engine, question)
    assert said[1] == [answer, "close-check.standard"]


def test_a_complaint_is_apologised_for_restated_and_promised_a_reply(engine: Engine) -> None:
    _, complaint, yes = bot_says(engine, "你们乱扣费 我要投诉", "是的")
    assert complaint == ["apology.complaint", "confirm.complaint"]
    assert yes[0] == "promise.complaint"


def test_nlu_test_and_evaluate_run_on_the_telecom_pack() -> None:
    tested = runner.invoke(app, ["nlu", "test", "--pack", str(TELECOM), "--json"])
    assert tested.exit_code == 0, tested.output
    assert set(json.loads(tested.stdout)["intents"]) == TELECOM_INTENTS
    evaluated = runner.invoke(app, ["nlu", "evaluate", str(HELDOUT), "--pack", str(TELECOM), "--json"])
    assert evaluated.exit_code == 0, evaluated.output
    report = json.loads(evaluated.stdout)
    assert report["total"] >= 100
    assert report["accuracy"] >= HELDOUT_FLOOR, report["misclassified"]


@pytest.fixture
def telecom_server(tmp_path: Path) -> Iterator[Server]:
    running = Server(f"sqlite:///{tmp_path / 'huashu.db'}", tmp_path, env={"HUASHU_PACK": str(TELECOM)}).start()
    yield running
    running.stop()


@pytest.mark.server
@pytest.mark.timeout(120)
async def test_the_widget_service_runs_on_the_telecom_pack(telecom_server: Server) -> None:
    async with ws_client(f"{telecom_server.ws}/ws/chat") as client:
        frames = await client.exchange({"type": "start"})
        only(frames, "started")
        assert "华数通信" in of_type(frames, "reply")[0]["text"]
        fault = await client.exchange({"type": "message", "id": "m-1", "text": "宽带从昨天开始一直掉线"})
        assert [r["phrase_id"] for r in of_type(fault, "reply")] == ["confirm.broadband_fault"]
        promised = await client.exchange({"type": "message", "id": "m-2", "text": "对"})
        texts = [r["text"] for r in of_type(promised, "reply")]
        assert "24小时内上门" in texts[0]
        conversation_id = only(frames, "started")["conversation_id"]
    # The repair promise is two commitments: a call within 2 hours, a visit within 24 (docs/aftercare.md).
    request = urllib.request.Request(f"{telecom_server.http}/api/commitments?conversation_id={conversation_id}",
                                     headers={"Authorization": "Bearer alice-token"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        items = json.loads(answer.read())["items"]
    assert [(c["window"], c["source"]) for c in items] == [("2小时内", "phrase"), ("24小时内", "phrase")]
