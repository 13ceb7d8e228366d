"""Closed vocabularies are defined once (app/vocab.py) and keep their wire and storage values."""

from __future__ import annotations

import re

import pytest

from app.api.messages import StartFrame, StatusFrame
from app.config import PROJECT_ROOT
from app.content.model import CHANNELS, STAGES
from app.storage.models import CHANNELS as STORED_CHANNELS
from app.storage.models import MODES, ROLES
from app.vocab import Channel, Mode, Role, Stage, WireMode, engine_mode, wire_mode


@pytest.mark.parametrize(("engine", "wire"), [(Mode.BOT, WireMode.BOT), (Mode.ASSIST, WireMode.HUMAN)])
def test_the_mode_bridge_maps_engine_and_wire_both_ways(engine: Mode, wire: WireMode) -> None:
    assert wire_mode(engine) is wire and engine_mode(wire) is engine
    assert wire_mode(str(engine)) is wire and engine_mode(str(wire)) is engine  # plain stored strings too


def test_members_are_their_wire_values() -> None:
    assert Channel.ONLINE == "online" and Stage.CLOSE_CHECK == "close-check" and Role.SYSTEM == "system"
    assert StatusFrame(state="listen", mode=WireMode.HUMAN, awaiting_agent=False, ended=False).model_dump(mode="json")[
        "mode"] == "human"
    assert StartFrame.model_validate({"type": "start", "channel": "phone"}).channel is Channel.PHONE


def test_every_layer_uses_the_same_sets() -> None:
    assert set(CHANNELS) == set(STORED_CHANNELS) == {"online", "phone", "email"}
    assert {"bot", "human"} == MODES and {"customer", "agent", "bot", "system"} == ROLES
    assert tuple(Stage) == STAGES


def test_no_module_spells_a_vocabulary_out_again() -> None:
    # Channel, mode and role lists (an audience such as ["customer", "agent"] is another vocabulary).
    spelled = re.compile(r'Literal\["(online|phone|email)"|Literal\["bot", "(human|assist)"|Literal\["customer", "agent", "bot"')
    offenders = [str(path.relative_to(PROJECT_ROOT)) for path in (PROJECT_ROOT / "app").rglob("*.py")
                 if spelled.search(path.read_text(encoding="utf-8"))]
    assert offenders == []
