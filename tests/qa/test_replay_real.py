"""Replay of the real JDDC sample follows what the human agents do: few agent turns leave the script
where it was (issue: at most 10%; it was 48.5% when replay waited for actions it never ran)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from app.engine.step import Engine
from app.qa.jddc import read_jddc
from app.qa.model import AGENT_ROLES
from app.qa.replay import replay
from app.transcripts import Transcript

MAX_UNCHANGED_SHARE = 0.10  # measured 9.7% (582 of 6,029 agent turns) on 2026-12-05


def test_at_most_a_tenth_of_real_agent_turns_leave_the_state_unchanged(engine: Engine, jddc_sample: Path) -> None:
    transcripts = [t for t in read_jddc(jddc_sample.read_text(encoding="utf-8").splitlines()) if isinstance(t, Transcript)]
    assert len(transcripts) > 900
    agent_turns = unchanged = 0
    ends: Counter[str] = Counter()
    for transcript in transcripts:
        tags = replay(engine, transcript).turns
        for tag in tags:
            if tag.role in AGENT_ROLES:
                agent_turns += 1
                unchanged += tag.state == tag.state_before
        ends[tags[-1].state] += 1
    assert unchanged / agent_turns <= MAX_UNCHANGED_SHARE, (unchanged, agent_turns)
    assert ends["lookup_order"] < 0.01 * len(transcripts)  # the look-up that was never run holds nobody


def test_partial_transcripts_are_not_judged_on_the_edges_they_lack(engine: Engine) -> None:
    from app.config import Settings
    from app.qa.assessor import Assessor
    from app.qa.rules import load_rules, rules_file
    from app.transcripts import Turn

    assessor = Assessor(engine, load_rules(rules_file(Settings().scripts_dir)))
    turns = (Turn("customer", "那我的退款到哪了"), Turn("agent", "已经原路退回到您的银行卡了"),
             Turn("customer", "好的"), Turn("agent", "嗯嗯"))
    whole = {f.rule for f in assessor.assess(Transcript("cut", turns=turns)).findings}
    assert {"greeting.missing", "close.no_farewell"} <= whole
    marked = Transcript("cut", turns=turns, partial_start=True, partial_end=True)
    assert not {f.rule for f in assessor.assess(marked).findings} & {
        "greeting.missing", "greeting.no_identity", "close.no_farewell", "close.no_more_help"}


def test_a_session_whose_first_agent_reply_resumes_or_closes_starts_mid_conversation(engine: Engine) -> None:
    from app.config import Settings
    from app.qa.assessor import Assessor
    from app.qa.rules import load_rules, rules_file
    from app.transcripts import Turn

    assessor = Assessor(engine, load_rules(rules_file(Settings().scripts_dir)))
    for opening in ("亲爱的,请问您是咨询之前的问题还是有新的问题呢?", "请问还有其他还可以帮到您的吗?"):
        transcript = Transcript("mid", turns=(Turn("customer", "?"), Turn("agent", opening)))
        assert "greeting.missing" not in {f.rule for f in assessor.assess(transcript).findings}, opening


def test_the_partial_marks_round_trip_the_interchange_format() -> None:
    transcript = Transcript.from_dict({"id": "p", "partial": {"start": True}, "turns": []})
    assert (transcript.partial_start, transcript.partial_end) == (True, False)
    assert transcript.to_dict()["partial"] == {"start": True, "end": False}
    assert "partial" not in Transcript("whole").to_dict()


def test_an_ending_that_waits_on_the_customer_or_passes_them_on_is_not_judged(engine: Engine) -> None:
    from app.config import Settings
    from app.qa.assessor import Assessor
    from app.qa.rules import load_rules, rules_file
    from app.transcripts import Turn

    assessor = Assessor(engine, load_rules(rules_file(Settings().scripts_dir)))
    opening = (Turn("customer", "你好"), Turn("agent", "您好,我是小李,很高兴为您服务"), Turn("customer", "我想改一下收货地址"),
               Turn("agent", "请问是这个订单吗"), Turn("customer", "是的"))
    for last in ("麻烦您提供一下新的地址哦", "这边帮您转接售后客服可以吗"):
        transcript = Transcript("paused", turns=(*opening, Turn("agent", last)))
        rules = {f.rule for f in assessor.assess(transcript).findings}
        assert not rules & {"close.no_farewell", "close.no_more_help"}, last
    ended = Transcript("ended", turns=(*opening, Turn("agent", "好的,已经帮您改好了")))
    assert "close.no_farewell" in {f.rule for f in assessor.assess(ended).findings}


def test_a_goodbye_is_not_taken_for_an_unconfirmed_solution(engine: Engine) -> None:
    from app.config import Settings
    from app.qa.assessor import Assessor
    from app.qa.rules import load_rules, rules_file
    from app.transcripts import Turn

    assessor = Assessor(engine, load_rules(rules_file(Settings().scripts_dir)))
    turns = (Turn("customer", "你好"), Turn("agent", "您好,我是小李,很高兴为您服务"),
             Turn("customer", "我买的衣服质量太差了,我要退货"),
             Turn("agent", "您客气了哦,小妹应该做的哈,感谢您对京东的关注,祝您生活愉快,再见!"))
    assert "confirm.missing" not in {f.rule for f in assessor.assess(Transcript("bye", turns=turns)).findings}
