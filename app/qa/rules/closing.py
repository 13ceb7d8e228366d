"""Closing rules: before the end, ask whether anything else is needed (`close.no_more_help`) and thank /
say goodbye (`close.no_farewell`). Seed 001 二(一)3 确认与结束.

Both look at the last few agent replies only, and stay silent when the conversation is too short to have
an end worth judging or ends by handing the customer over to someone else.
"""

from __future__ import annotations

from collections.abc import Iterator

from app.qa.model import Replay, TurnTag
from app.qa.rulebook import Param, RuleConfig
from app.qa.rules.base import Check, Hit, Kit, Rule, fulfils, quote


def _ending(replay: Replay, cfg: RuleConfig) -> tuple[TurnTag, ...]:
    agents = replay.agent_turns
    if replay.partial_end or len(agents) < cfg.integer("min_agent_turns"):
        return ()  # cut before its end, or too short to have an end worth judging
    if cfg.names("skip_when_last_stage") & {agents[-1].stage, *agents[-1].stages}:
        return ()  # handed over: the colleague taking over closes the conversation
    if cfg.pattern("skip_when_paused").search(agents[-1].text):
        return ()  # the agent's last reply waits on the customer or passes them on: the log stops mid-way
    last = replay.turns[-1]
    if "skip_when_ends_with" in cfg.params and last.is_agent and cfg.pattern("skip_when_ends_with").search(last.text):
        return ()  # "还有其他需要帮助的吗?" went unanswered: the customer left before a goodbye was due
    return agents[-max(1, cfg.integer("within_last_agent_turns")) :]


def _closing_rule(stage: str) -> Check:
    def check(replay: Replay, cfg: RuleConfig, kit: Kit) -> Iterator[Hit]:
        ending = _ending(replay, cfg)
        if not ending:
            return
        cues = cfg.pattern("cues")
        if not any(fulfils(turn, stage, cues) for turn in ending):
            yield Hit(ending[-1].index, quote(ending[-1]))

    check.__name__ = f"close_{stage.replace('-', '_')}"
    return check


def _params(within: int) -> dict[str, Param]:
    return {
        "cues": Param("cues"),
        "min_agent_turns": Param("integer", 2),
        "within_last_agent_turns": Param("integer", within),
        "skip_when_last_stage": Param("stages", ["hand-off"]),
        "skip_when_paused": Param("cues", []),
    }


RULES = (
    Rule("close.no_more_help", _closing_rule("close-check"), _params(3)),
    Rule("close.no_farewell", _closing_rule("farewell"), {**_params(2), "skip_when_ends_with": Param("cues")}),
)
