"""Opening rules: the first agent reply greets (`greeting.missing`) and says who is speaking
(`greeting.no_identity`). Seed 001 二(一)1: "您好,很高兴为您服务!我是[您的名字/工号],请问有什么可以帮到您?"
"""

from __future__ import annotations

from collections.abc import Iterator

from app.qa.model import Replay, TurnTag
from app.qa.rulebook import Param, RuleConfig
from app.qa.rules.base import Hit, Kit, Rule, fulfils, quote, span_of


def _opening(replay: Replay, cfg: RuleConfig) -> tuple[TurnTag, ...]:
    """The agent's first replies, or none when the transcript starts mid-conversation: marked so
    (`partial.start`), or the first agent reply closes (a close-check, a goodbye) or resumes an earlier
    session ("请问您是咨询之前的问题还是…", `mid_start_cues`)."""
    opening = replay.agent_turns[: max(1, cfg.integer("within_agent_turns"))]
    if replay.partial_start or not opening:
        return ()
    first = opening[0]
    if first.stage in cfg.names("mid_start_stages") or cfg.pattern("mid_start_cues").search(first.text):
        return ()
    return opening


def greeting_missing(replay: Replay, cfg: RuleConfig, kit: Kit) -> Iterator[Hit]:
    opening = _opening(replay, cfg)
    if not opening:
        return  # nobody answered: nothing to judge
    cues = cfg.pattern("greeting_cues")
    if not any(fulfils(turn, "greeting", cues) for turn in opening):
        yield Hit(opening[0].index, quote(opening[0]))


def greeting_no_identity(replay: Replay, cfg: RuleConfig, kit: Kit) -> Iterator[Hit]:
    opening = _opening(replay, cfg)
    cues = cfg.pattern("greeting_cues")
    greeting = next((turn for turn in opening if fulfils(turn, "greeting", cues)), None)
    if greeting is None:
        return  # no greeting at all is `greeting.missing`
    identity = cfg.pattern("identity_cues")
    for turn in opening:
        if identity.search(turn.text) or (replay.agent and len(replay.agent) > 1 and replay.agent in turn.text):
            return
    yield Hit(greeting.index, span_of(cues, greeting.text) or quote(greeting))


_OPENING_PARAMS = {
    "greeting_cues": Param("cues"),
    "within_agent_turns": Param("integer", 1),
    "mid_start_stages": Param("stages", ["close-check", "farewell"]),
    "mid_start_cues": Param("cues", []),
}
RULES = (
    Rule("greeting.missing", greeting_missing, _OPENING_PARAMS),
    Rule("greeting.no_identity", greeting_no_identity, {**_OPENING_PARAMS, "identity_cues": Param("cues")}),
)
