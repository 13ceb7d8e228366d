"""Importing transcripts: JSON Lines, the JDDC TSV adapter, stored conversations; bad lines never stop a batch."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.qa.assessor import Assessor
from app.qa.jddc import AGENT, read_jddc
from app.qa.model import InputError
from app.qa.sources import Item, format_of, parse_lines, read_file
from app.qa.stored import stored_items
from app.storage.memory import MemoryTranscriptStore
from app.storage.models import NewConversation, NewMessage, Role, hash_token
from app.transcripts import LineError, Transcript

GOOD = {"id": "a", "channel": "online", "turns": [{"role": "customer", "text": "你好"}, {"role": "agent", "text": "您好"}]}


def jsonl(*lines: object) -> list[str]:
    return [line if isinstance(line, str) else json.dumps(line, ensure_ascii=False) for line in lines]


def test_jsonl_reports_bad_lines_with_their_number_and_keeps_going() -> None:
    lines = jsonl(GOOD, "{not json", {"id": "b", "channel": "online"}, "", {**GOOD, "id": "c"})
    entries = list(parse_lines(lines, "jsonl", "batch.jsonl"))
    items = [e for e in entries if isinstance(e, Item)]
    errors = [e for e in entries if isinstance(e, InputError)]
    assert [i.transcript.id for i in items] == ["a", "c"]
    assert [i.source for i in items] == ["batch.jsonl:1", "batch.jsonl:5"]
    assert [(e.source, e.line) for e in errors] == [("batch.jsonl", 2), ("batch.jsonl", 3)]
    assert "invalid JSON" in errors[0].message and '"turns"' in errors[1].message


def test_jsonl_reports_a_missing_turn_field() -> None:
    bad = {"id": "x", "turns": [{"role": "customer"}]}
    (error,) = parse_lines(jsonl(bad), "jsonl", "f")
    assert isinstance(error, InputError) and error.line == 1 and "turns[0].text" in error.message


def test_format_is_chosen_by_extension_unless_given() -> None:
    assert format_of(Path("a.tsv")) == "jddc" and format_of(Path("a.jsonl")) == "jsonl"
    assert format_of(Path("a.tsv"), "jsonl") == "jsonl"


def test_an_unreadable_file_is_one_error_not_an_exception(tmp_path: Path) -> None:
    (error,) = read_file(tmp_path / "missing.jsonl")
    assert isinstance(error, InputError) and "cannot read file" in error.message


ROWS = [
    "s1\tU1\t0\t0\t0\tnan\t你好",
    "s1\tU1\t1\t0\t0\t123\t您好!@@@!有什么问题我可以帮您处理或解决呢?",
    "s1\tU1\t0\t1\t0\tnan\tNULL",
    "s2\tU2\t0\t0\t0\tnan\t我的快递到哪了",
    "s2\tU2\t2\t0\t0\tnan\tsender two",
    "s2\tU2\t1\t0\t0\tnan",
    "s2\tU2\t1\t0\t1\tnan\t已经到站点了",
    "s1\tU1\t0\t0\t0\tnan\t又来了",
]


NOT_UTF8 = "我的快递".encode("gbk")  # what a GBK export looks like to a UTF-8 reader


def test_a_jsonl_line_that_is_not_utf8_is_one_error_and_the_lines_after_it_are_read(tmp_path: Path) -> None:
    path = tmp_path / "batch.jsonl"
    good, other = (json.dumps(d, ensure_ascii=False).encode() for d in (GOOD, {**GOOD, "id": "c"}))
    path.write_bytes(good + b"\n" + b'{"id": "b", "text": "' + NOT_UTF8 + b'"}\n' + other + b"\n")
    entries = list(read_file(path))
    assert [e.transcript.id for e in entries if isinstance(e, Item)] == ["a", "c"]
    (error,) = [e for e in entries if isinstance(e, InputError)]
    assert (error.source, error.line) == (str(path), 2) and "not UTF-8" in error.message
    assert entries.index(error) == 1  # reported in its place


def test_a_jddc_row_that_is_not_utf8_is_one_error_and_the_rows_after_it_are_read(tmp_path: Path) -> None:
    path = tmp_path / "chat.tsv"
    rows = [ROWS[0].encode(), b"s1\tU1\t0\t0\t0\tnan\t" + NOT_UTF8, ROWS[1].encode(), ROWS[3].encode()]
    path.write_bytes(b"\n".join(rows) + b"\n")
    entries = list(read_file(path))
    items = [e for e in entries if isinstance(e, Item)]
    assert [i.transcript.id for i in items] == ["s1", "s2"]
    assert [t.text for t in items[0].transcript.turns] == ["你好", "您好", "有什么问题我可以帮您处理或解决呢?"]
    (error,) = [e for e in entries if isinstance(e, InputError)]
    assert (error.source, error.line) == (str(path), 2) and "not UTF-8" in error.message


def test_jddc_groups_rows_by_session_in_order() -> None:
    entries = list(read_jddc(ROWS))
    transcripts = [e for e in entries if isinstance(e, Transcript)]
    assert [t.id for t in transcripts] == ["s1", "s2"]
    first, second = transcripts
    assert [(t.role, t.text) for t in first.turns] == [
        ("customer", "你好"),
        ("agent", "您好"),
        ("agent", "有什么问题我可以帮您处理或解决呢?"),
    ]
    assert (first.agent, first.channel, first.meta["customer"], first.meta["sku"]) == (AGENT, "online", "U1", "123")
    assert first.meta["transferred"] is True and second.meta["repeated"] is True
    assert [t.text for t in second.turns] == ["我的快递到哪了", "已经到站点了"]


def test_jddc_reports_malformed_rows_with_their_line_number() -> None:
    errors = [e for e in read_jddc(ROWS) if isinstance(e, LineError)]
    assert [e.line for e in errors] == [5, 6, 8]
    assert "sender" in errors[0].message and "7 tab-separated columns" in errors[1].message
    assert "continues after other sessions" in errors[2].message


def test_jddc_adapter_reads_the_whole_shared_sample(jddc_sample: Path) -> None:
    entries = list(read_file(jddc_sample))
    items = [e for e in entries if isinstance(e, Item)]
    assert [e for e in entries if isinstance(e, InputError)] == []
    assert len(items) == 994
    assert sum(len(i.transcript.turns) for i in items) == 12_136
    assert len({i.transcript.id for i in items}) == 994
    assert {t.role for i in items for t in i.transcript.turns} == {"customer", "agent"}
    assert all(i.transcript.channel == "online" and i.transcript.agent == AGENT for i in items)


def test_every_jddc_session_is_scored_or_reported(jddc_sample: Path, assessor: Assessor) -> None:
    results = [assessor.assess(i.transcript, source=i.source) for i in read_file(jddc_sample) if isinstance(i, Item)]
    assert all((r.score is None) == (r.error is not None) for r in results)
    scored = [r for r in results if r.score is not None]
    assert len(scored) >= 950, f"{994 - len(scored)} sessions could not be replayed"
    rules = {f.rule for r in scored for f in r.findings}
    # No timestamps and anonymised numbers in JDDC: those rules must stay silent rather than guess.
    assert "wait.no_apology" not in rules and "pii.exposed" not in rules
    assert 60 <= sum(r.score for r in scored if r.score is not None) / len(scored) <= 100


def test_stored_conversations_become_transcripts() -> None:
    async def scenario() -> list[Item]:
        store = MemoryTranscriptStore()
        await store.open()
        at = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
        await store.create_conversation(
            NewConversation("c1", "default", "1", "online", "human", "listen", {}, {}, None, hash_token("t"), at, agent="alice")
        )
        def message(role: Role, text: str) -> NewMessage:
            return NewMessage(role, text, "listen", "listen", None, None, [], None, [], at)

        messages = [message("system", "started"), message("customer", "你好"), message("agent", "您好,我是alice")]
        await store.append("c1", messages)
        return await stored_items(store)

    (item,) = asyncio.run(scenario())
    assert item.source == "store:c1"
    assert (item.transcript.id, item.transcript.agent, item.transcript.flow) == ("c1", "alice", "default")
    assert [(t.role, t.text) for t in item.transcript.turns] == [("customer", "你好"), ("agent", "您好,我是alice")]


@pytest.mark.parametrize("partial", [[], {"start": "yes"}, {"begin": True}])
def test_a_malformed_partial_mark_is_refused_by_name(partial: object) -> None:
    from app.transcripts import Transcript, TranscriptError

    with pytest.raises(TranscriptError, match='"partial"'):
        Transcript.from_dict({"id": "p", "partial": partial, "turns": []})
