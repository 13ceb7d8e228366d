"""After the chat: a promise made with a time and not kept by then (`commitment.overdue`). Seed 003 第二章1
(24小时内做出回应) and 3.4 (跟进与回访): a promise nobody keeps is the commonest way service fails.

It reads the commitments a stored conversation's export carries (`aftercare.commitments`, docs/aftercare.md):
one still open past its due time, or marked done after it, is a finding at the turn that promised it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from app.qa.model import Evidence, Replay
from app.qa.rulebook import RuleConfig
from app.qa.rules.base import Hit, Kit, Rule


def _late(commitment: Mapping[str, Any]) -> bool:
    if commitment.get("status") == "overdue":
        return True
    done_at, due_at = commitment.get("done_at"), commitment.get("due_at")
    if commitment.get("status") != "done" or not isinstance(done_at, str) or not isinstance(due_at, str):
        return False
    return datetime.fromisoformat(done_at) > datetime.fromisoformat(due_at)


def commitment_overdue(replay: Replay, cfg: RuleConfig, kit: Kit) -> Iterator[Hit]:
    last_agent = replay.agent_turns[-1].index if replay.agent_turns else 0
    for commitment in replay.commitments:
        if not _late(commitment):
            continue
        turn = commitment.get("turn")
        what = str(commitment.get("what", ""))
        yield Hit(
            turn if isinstance(turn, int) else last_agent,
            Evidence(what),
            facts={"what": what, "due_at": commitment.get("due_at"), "status": commitment.get("status"),
                   "window": commitment.get("window", "")},
        )


RULES = (Rule("commitment.overdue", commitment_overdue),)
