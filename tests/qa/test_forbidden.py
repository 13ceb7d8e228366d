"""The forbidden-wording gate: an entry's pattern runs only where one of its cores occurs, and no match is lost."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.engine.step import Engine
from app.qa.forbidden import ForbiddenScanner, required_cores


@pytest.mark.parametrize(
    ("pattern", "cores"),
    [
        ("不可能", {"不可能"}),
        ("(我|我们)(也|真)?不知道", {"不知道"}),  # optional words around a fixed core
        ("(?<!行)不行(?!驶|为)", {"不行"}),  # lookarounds consume nothing: the run goes on
        ("(你)?(就)?等着吧|慢慢等", {"等着吧", "慢慢等"}),  # every alternative needs one of its own
        ("(处理|解决|办)不了", {"不了"}),  # the longest plain run wins over a group of short ones
        ("(?:好的)+呢", {"好的"}),  # a repeat that must occur at least once
        ("[不没]行", {"行"}),  # a character class ends a run; what follows it still counts
    ],
)
def test_cores_are_read_off_the_pattern(pattern: str, cores: set[str]) -> None:
    assert required_cores(re.compile(pattern)) == cores


@pytest.mark.parametrize("pattern", ["[不没].", "不?行?", "(?i)abc", "a|[bc]"])
def test_no_core_means_no_gate(pattern: str) -> None:
    assert required_cores(re.compile(pattern)) is None


def test_the_scanner_finds_what_the_patterns_find(engine: Engine) -> None:
    content = engine.content
    scanner = ForbiddenScanner(content.forbidden)
    text = "这个我也不知道,您就等着吧,不行的话找别人去问"
    expected = [(e.id, m.span()) for e in content.forbidden for m in e.pattern.finditer(text)]
    assert [(e.id, m.span()) for e, m in scanner.matches(text)] == expected
    assert {"forbidden.buxing"} <= {i for i, _ in expected}
    assert list(scanner.matches("您好,很高兴为您服务")) == []


def test_every_shipped_entry_has_a_gate(engine: Engine) -> None:
    """A shipped entry without a core would be searched in every reply: worth a look when it happens."""
    assert [e.id for e in engine.content.forbidden if required_cores(e.pattern) is None] == []


# The engine fixture is session-scoped: the same object for every generated example.
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_match_of_a_shipped_entry_contains_a_core(data: st.DataObject, engine: Engine) -> None:
    for item in engine.content.forbidden:
        cores = required_cores(item.pattern)
        assert cores is not None
        text = data.draw(st.from_regex(item.pattern), label=item.id)
        for match in item.pattern.finditer(text):
            assert any(core in match.group() for core in cores), (item.id, match.group())
