"""scripts_zh/stage_cues.yaml: literal cues, `{re: PATTERN}` cues and `no_act`, checked at load time."""

from __future__ import annotations

from pathlib import Path

from app.content.errors import SchemaError
from app.content.loader import collect_content
from tests.content.test_validation import write_content


def load_cues(tmp_path: Path, text: str) -> list[SchemaError]:
    flows_dir, scripts_dir = write_content(tmp_path)
    (scripts_dir / "stage_cues.yaml").write_text(text, encoding="utf-8")
    _, defects = collect_content(flows_dir, scripts_dir)
    return [d for d in defects if isinstance(d, SchemaError)]


def test_literal_and_pattern_cues_load_as_patterns(tmp_path: Path) -> None:
    flows_dir, scripts_dir = write_content(tmp_path)
    (scripts_dir / "stage_cues.yaml").write_text(
        "stage_cues:\n  greeting:\n    - 您好.\n    - re: '^喂'\nno_act:\n  - 嗯\n", encoding="utf-8"
    )
    content, defects = collect_content(flows_dir, scripts_dir)
    assert defects == []
    assert content.stage_cues.stages["greeting"] == (r"您好\.", "^喂")
    assert content.stage_cues.no_act == ("嗯",)


def test_an_invalid_pattern_is_reported_with_file_and_line(tmp_path: Path) -> None:
    defects = load_cues(tmp_path, "stage_cues:\n  greeting:\n    - 您好\n    - re: '(您好'\n")
    assert len(defects) == 1
    assert defects[0].file is not None and defects[0].file.endswith("stage_cues.yaml")
    assert defects[0].line == 4 and "invalid regular expression" in defects[0].message


def test_a_pattern_that_matches_the_empty_text_is_refused(tmp_path: Path) -> None:
    defects = load_cues(tmp_path, "stage_cues:\n  greeting: [您好]\nno_act:\n  - re: '嗯*'\n")
    assert len(defects) == 1 and defects[0].line == 4 and "empty text" in defects[0].message


def test_a_cue_that_is_neither_text_nor_pattern_is_refused(tmp_path: Path) -> None:
    defects = load_cues(tmp_path, "stage_cues:\n  greeting:\n    - {regex: '^喂'}\n    - [您好]\n")
    assert [d.line for d in defects] == [3, 2]
    assert "`{re: PATTERN}`" in defects[0].message and "a cue must be a text" in defects[1].message


def test_an_unknown_stage_is_reported_on_its_line(tmp_path: Path) -> None:
    defects = load_cues(tmp_path, "stage_cues:\n  greeting: [您好]\n  goodbye: [再见]\n")
    assert len(defects) == 1 and defects[0].line == 3 and "goodbye" in defects[0].message
