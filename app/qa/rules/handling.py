"""Handling rules: restate a reported problem before solving it (`confirm.missing`), apologise to an
unhappy customer before the solution (`apology.missing`), apologise after a long wait (`wait.no_apology`),
and say when the customer will hear back when deferring (`answer.no_eta`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

from app.qa.model import Evidence, Replay, TurnTag
from app.qa.rulebook import Param, RuleConfig
from app.qa.rules.base import Hit, Kit, Rule, fulfils, quote, span_of

_CHUNK = re.compile(r"\s{2,}|\n")  # JDDC joins several messages with runs of spaces
_CLAUSE = re.compile(r"[^。！!？?；;，,~～]+")


def _is_solution(turn: TurnTag, cfg: RuleConfig, kit: Kit) -> bool:
    """Does this agent turn answer or resolve?

    Not when it asks the customer something, asks them to wait, or asks for a rating ("请问是哪个订单呢?",
    "请您稍等"): the answer is still to come. Otherwise it answers when a clause carries an answer stage,
    or a clause with no stage cue at all is long enough ("您好,我是小李。您的订单正在配送中").
    """
    if cfg.pattern("not_solution_cues").search(turn.text) or turn.stage in cfg.names("not_solution_stages"):
        return False
    answer_stages, shortest = cfg.names("answer_stages"), cfg.integer("min_answer_chars")
    standard = kit.tagger.standard_stage(turn.text)
    if standard is not None:  # a standard phrasing of the script answers exactly when its stage does
        return standard in answer_stages
    found = answer_stages.intersection(turn.stages) | answer_stages.intersection({turn.stage})
    # An apology's own words ("很抱歉,给您带来了不好的体验呢") can read as substance: beside an apology,
    # a bare `answer` counts only when a clause with no stage cue says something (below).
    if found and not ("apology" in turn.stages and found == {"answer"}):
        return True
    for chunk in _CHUNK.split(turn.text):
        for clause in _CLAUSE.findall(chunk):
            clause = clause.strip().rstrip("。！!？?；;，,~～")
            if len(clause) >= shortest and not kit.tagger.stages_in(clause):
                return True
    return False


def confirm_missing(replay: Replay, cfg: RuleConfig, kit: Kit) -> Iterator[Hit]:
    intents, floor = cfg.names("problem_intents"), cfg.number("min_confidence")
    cues = cfg.pattern("confirm_cues")
    checked: set[str] = set()  # each kind of problem is restated once
    turns = replay.turns
    for problem in turns:
        if problem.role != "customer" or problem.intent not in intents or (problem.confidence or 0.0) < floor:
            continue
        if problem.intent in checked or problem.confirmation == "yes":
            continue  # "嗯 是的 换货" agrees with what was already said; it reports nothing new
        if cfg.pattern("enquiry_cues").search(problem.text) and not cfg.pattern("problem_cues").search(problem.text):
            continue  # "退货怎么办理?" asks about the policy; an enquiry is answered, not restated
        checked.add(problem.intent)
        for later in turns[problem.index + 1 :]:
            if not later.is_agent:
                continue  # the customer adding details does not end the wait for a restatement
            if fulfils(later, "confirm", cues) or "hand-off" in later.stages:
                break
            if _is_solution(later, cfg, kit):
                facts = {"problem_turn": problem.index, "intent": problem.intent}
                yield Hit(later.index, quote(later), facts=facts, context_turn=problem.index)
                break


def _unhappy(turn: TurnTag, cfg: RuleConfig) -> bool:
    if turn.role != "customer":
        return False
    if turn.intent in cfg.names("trigger_intents") and (turn.confidence or 0.0) >= cfg.number("min_confidence"):
        return True
    return turn.emotion in cfg.names("trigger_emotions") and (turn.emotion_score or 0.0) >= cfg.number("min_emotion_score")


def apology_missing(replay: Replay, cfg: RuleConfig, kit: Kit) -> Iterator[Hit]:
    cues = cfg.pattern("apology_cues")
    turns = replay.turns
    resume = 0  # triggers inside an episode already judged are part of it
    for trigger in turns:
        if trigger.index < resume or not _unhappy(trigger, cfg):
            continue
        resume = len(turns)
        for later in turns[trigger.index + 1 :]:
            if not later.is_agent:
                continue
            if fulfils(later, "apology", cues) or "hand-off" in later.stages:
                resume = later.index + 1
                break
            if _is_solution(later, cfg, kit):
                facts = {"trigger_turn": trigger.index, "intent": trigger.intent, "emotion": trigger.emotion}
                yield Hit(later.index, quote(later), facts=facts, context_turn=trigger.index)
                resume = later.index + 1
                break


def _gap_seconds(earlier: datetime, later: datetime) -> float | None:
    if (earlier.tzinfo is None) != (later.tzinfo is None):
        return None  # naive and aware timestamps cannot be compared honestly
    return (later - earlier).total_seconds()


def wait_no_apology(replay: Replay, cfg: RuleConfig, kit: Kit) -> Iterator[Hit]:
    threshold = cfg.per_channel("threshold_seconds", replay.channel)
    if threshold is None:
        return
    cues = cfg.pattern("wait_apology_cues")
    waiting_since: datetime | None = None  # the first customer message the agent has not answered yet
    for turn in replay.turns:
        if not turn.is_agent:
            if waiting_since is None and turn.ts is not None:
                waiting_since = turn.ts
            continue
        if waiting_since is not None and turn.ts is not None:
            gap = _gap_seconds(waiting_since, turn.ts)
            if gap is not None and gap > threshold and not cues.search(turn.text):
                yield Hit(turn.index, quote(turn), facts={"gap_seconds": round(gap), "threshold_seconds": round(threshold)})
        waiting_since = None


def answer_no_eta(replay: Replay, cfg: RuleConfig, kit: Kit) -> Iterator[Hit]:
    defer, eta, in_session = cfg.pattern("defer_cues"), cfg.pattern("eta_cues"), cfg.pattern("in_session_cues")
    window = cfg.integer("window_agent_turns")
    agents = replay.agent_turns
    for position, turn in enumerate(agents):
        evidence = span_of(defer, turn.text)
        if evidence is None or eta.search(turn.text) or in_session.search(turn.text):
            continue  # "请您稍等,正在为您核实" is checking now, in this conversation: the waiting stage
        if any(eta.search(t.text) for t in agents[position + 1 : position + 1 + window]):
            continue  # "我帮您反馈一下" … "预计两个工作日寄出": the time came in the next reply
        yield Hit(turn.index, Evidence(evidence.text, evidence.start, evidence.end))


_SOLUTION = {
    "answer_stages": Param("stages", ["answer", "promise"]),
    "not_solution_stages": Param("stages", ["greeting", "close-check", "farewell"]),
    "not_solution_cues": Param("cues"),
    "min_answer_chars": Param("integer", 6),
}
RULES = (
    Rule(
        "confirm.missing",
        confirm_missing,
        {
            "problem_intents": Param("intents", ["complaint", "repair", "return_refund"]),
            "min_confidence": Param("number", 0.5),
            "confirm_cues": Param("cues"),
            "enquiry_cues": Param("cues"),
            "problem_cues": Param("cues"),
            **_SOLUTION,
        },
    ),
    Rule(
        "apology.missing",
        apology_missing,
        {
            "trigger_intents": Param("intents", ["complaint"]),
            "trigger_emotions": Param("emotions", ["negative", "angry"]),
            "min_confidence": Param("number", 0.5),
            "min_emotion_score": Param("number", 0.5),
            "apology_cues": Param("cues"),
            **_SOLUTION,
        },
    ),
    Rule(
        "wait.no_apology",
        wait_no_apology,
        {"threshold_seconds": Param("per_channel", {"online": 60, "phone": 30, "email": 86400}), "wait_apology_cues": Param("cues")},
    ),
    Rule(
        "answer.no_eta",
        answer_no_eta,
        {
            "defer_cues": Param("cues"),
            "eta_cues": Param("cues"),
            "in_session_cues": Param("cues"),
            "window_agent_turns": Param("integer", 1),
        },
    ),
)
