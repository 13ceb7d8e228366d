"""docs/packs.md's tutorial, followed block by block on a copy of the default pack: a new intent taught
with data alone is checked, understood, and answered by the bot."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from app.config import PROJECT_ROOT, Settings
from app.engine.events import CustomerSaid
from app.runtime import build_engine

GUIDE = PROJECT_ROOT / "docs" / "packs.md"
_STEP = re.compile(r"<!-- tutorial-(file|edit): (\S+) -->\n((?:```yaml\n.*?```\n?)+)", re.S)
_BLOCK = re.compile(r"```yaml\n(.*?)```", re.S)

runner = CliRunner()


@pytest.fixture(autouse=True)
def _pack_setting_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """`--pack` sets HUASHU_PACK for the process; each test gets it back as it was."""
    monkeypatch.setenv("HUASHU_PACK", "")


def follow_tutorial(pack: Path) -> int:
    """Apply every `tutorial-file` (write the block) and `tutorial-edit` (replace the first block by
    the second) step of the guide to `pack`; returns the number of steps."""
    steps = _STEP.findall(GUIDE.read_text(encoding="utf-8"))
    for kind, relative, blocks in steps:
        target = pack / relative
        texts = _BLOCK.findall(blocks)
        if kind == "file":
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(texts[0], encoding="utf-8")
        else:
            before, after = texts
            current = target.read_text(encoding="utf-8")
            assert current.count(before) == 1, f"the guide's edit of {relative} no longer matches the file:\n{before}"
            target.write_text(current.replace(before, after), encoding="utf-8")
    return len(steps)


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pack = tmp_path_factory.mktemp("mypack")
    shutil.copytree(PROJECT_ROOT / "flows", pack / "flows")
    shutil.copytree(PROJECT_ROOT / "scripts_zh", pack / "scripts_zh")
    assert follow_tutorial(pack) == 4
    return pack


def test_the_taught_pack_passes_huashu_check(pack: Path) -> None:
    result = runner.invoke(app, ["check", "--pack", str(pack)])
    assert result.exit_code == 0, result.output
    assert "14 intents" in result.output


def test_the_analyzer_recognises_new_gift_card_messages(pack: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUASHU_PACK", str(pack))
    # None of these is an example in the tutorial.
    lines = "\n".join(json.dumps({"text": t}, ensure_ascii=False) for t in ("我那张E卡还剩多少钱啊", "礼品卡怎么绑定到账户"))
    result = runner.invoke(app, ["analyze", "-"], input=lines + "\n")
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["intent"] for line in result.stdout.splitlines()] == ["gift_card", "gift_card"]


def test_the_bot_answers_a_gift_card_question_with_the_new_phrasing(pack: Path) -> None:
    engine = build_engine(Settings(pack=pack))
    started = engine.start("c1", mode="bot")
    result = engine.step(started.conversation, CustomerSaid("你好,我的礼品卡余额在哪看"))
    assert result.analysis is not None and result.analysis.intent == "gift_card"
    assert "answer.gift_card.balance" in [reply.phrase_id for reply in result.replies]


def test_the_default_pack_does_not_know_gift_cards() -> None:
    engine = build_engine(Settings())
    assert "gift_card" not in engine.content.intents
