"""Records pickle as constructor calls: what crosses to and from QA worker processes arrives equal."""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from app.qa.model import Assessment, Evidence, Finding, Recommendation, TurnTag
from app.qa.sources import Item
from app.records import pickled_by_fields
from app.transcripts import Transcript, Turn


def roundtrip(value: object) -> object:
    return pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


def test_transcript_items_arrive_equal() -> None:
    at = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    item = Item(Transcript("t1", "phone", (Turn("customer", "你好", at), Turn("agent", "您好")), "张三", meta={"k": 1}), "a.jsonl:3")
    assert roundtrip(item) == item


def test_assessments_arrive_equal() -> None:
    tag = TurnTag(0, "agent", "您好", None, "greeting", "listen", stage="greeting", stages=("greeting",), context={"topic": "x"})
    finding = Finding("greeting.no_identity", 0, "minor", "m", Evidence("您好", 0, 2), Recommendation("p1", "您好,我是…", "greeting", ("agent_name",)), 2.0, details={"a": 1})
    assessment = Assessment("t1", "online", "张三", "default", 98.0, (finding,), (tag,), versions={"rules": "r1"}, source="a:1")
    assert roundtrip(assessment) == assessment


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class One:  # pickle finds classes by module and name: this one must live at module level
    value: int


def test_a_one_field_record_pickles_too() -> None:
    assert roundtrip(One(3)) == One(3)


def test_keyword_only_fields_are_refused() -> None:
    with pytest.raises(TypeError, match="keyword-only"):

        @pickled_by_fields
        @dataclass(frozen=True, kw_only=True)
        class Keywords:
            value: int = field(default=0)
