"""The closed vocabularies every layer shares, each defined once: channel, role, mode and stage.

They are `StrEnum`s, so a member equals its wire/storage value ("online" == Channel.ONLINE) and
serialises as it: values on the wire and in the store are the same strings as before.
"""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    """Where a conversation happens."""

    ONLINE = "online"
    PHONE = "phone"
    EMAIL = "email"


class Role(StrEnum):
    """Who said a stored line."""

    CUSTOMER = "customer"
    AGENT = "agent"
    BOT = "bot"
    SYSTEM = "system"


class Mode(StrEnum):
    """Who answers, as the engine sees it: the bot speaks, or a human is assisted."""

    BOT = "bot"
    ASSIST = "assist"


class WireMode(StrEnum):
    """Who answers, as the wire and the store say it: a person answering is `human` to clients."""

    BOT = "bot"
    HUMAN = "human"


def wire_mode(mode: str) -> WireMode:
    """The one bridge from the engine's mode to the wire's (`assist` is `human` on the wire)."""
    return WireMode.BOT if mode == Mode.BOT else WireMode.HUMAN


def engine_mode(wire: str) -> Mode:
    """The one bridge from the wire's mode to the engine's (`human` is assisted by the engine)."""
    return Mode.BOT if wire == WireMode.BOT else Mode.ASSIST


class Stage(StrEnum):
    """The stages of the standard service script (seed 001 二(一); docs/flows.md)."""

    GREETING = "greeting"
    LISTEN = "listen"
    CONFIRM = "confirm"
    CLARIFY = "clarify"
    ANSWER = "answer"
    APOLOGY = "apology"
    WAITING = "waiting"
    PROMISE = "promise"
    CLOSE_CHECK = "close-check"
    FAREWELL = "farewell"
    HAND_OFF = "hand-off"
