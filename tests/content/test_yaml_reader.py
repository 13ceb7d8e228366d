"""One YAML reader for all content (issue 16 item 9): flows, phrasings, QA rules, report texts, letters,
NLU data and demo orders are read by app/content/yamlio.py, so they agree on encoding errors, line
numbers and booleans."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from app.config import PROJECT_ROOT
from app.content.errors import ContentErrors
from app.content.loader import collect_content
from app.letters.pack import letter_defects
from app.nlu.resources import DataError, PackData
from app.qa.reports.labels import load_report_labels
from app.qa.rulebook import load_rulebook
from app.qa.rules import SPECS

GBK_LINE_2 = "# saved by an editor in GBK\nname: 发票\n".encode("gbk")


def test_no_module_parses_yaml_on_its_own() -> None:
    readers = [path.relative_to(PROJECT_ROOT).as_posix() for path in (PROJECT_ROOT / "app").rglob("*.py")
               if re.search(r"yaml\.(safe_)?load\(", path.read_text(encoding="utf-8"))]
    assert readers == ["app/content/yamlio.py"]


@pytest.fixture
def scripts(tmp_path: Path) -> Path:
    copy = tmp_path / "scripts_zh"
    shutil.copytree(PROJECT_ROOT / "scripts_zh", copy)
    return copy


def _says_not_utf8(messages: list[str], file: Path) -> bool:
    return any(f"{file}:2" in m and "not UTF-8" in m for m in messages)


def test_every_reader_names_a_gbk_file_and_its_line_the_same_way(scripts: Path) -> None:
    (scripts / "facts.yaml").write_bytes(GBK_LINE_2)
    _, defects = collect_content(PROJECT_ROOT / "flows", scripts)
    assert _says_not_utf8([d.describe() for d in defects], scripts / "facts.yaml")

    (scripts / "qa_rules.yaml").write_bytes(GBK_LINE_2)
    with pytest.raises(ContentErrors) as rules:
        load_rulebook(scripts / "qa_rules.yaml", SPECS)
    assert _says_not_utf8([d.describe() for d in rules.value.defects], scripts / "qa_rules.yaml")

    (scripts / "qa_report.yaml").write_bytes(GBK_LINE_2)
    with pytest.raises(ContentErrors) as labels:
        load_report_labels(scripts / "qa_report.yaml")
    assert _says_not_utf8([d.describe() for d in labels.value.defects], scripts / "qa_report.yaml")

    (scripts / "letters" / "thanks.yaml").write_bytes(GBK_LINE_2)
    assert _says_not_utf8([d.describe() for d in letter_defects(scripts, {})], scripts / "letters" / "thanks.yaml")

    (scripts / "nlu" / "slots.yaml").write_bytes(GBK_LINE_2)
    with pytest.raises(DataError, match=r"slots\.yaml:2.*not UTF-8"):
        PackData(scripts / "nlu").read_yaml("slots.yaml")


def test_nlu_yaml_syntax_errors_name_file_and_line(scripts: Path) -> None:
    (scripts / "nlu" / "slots.yaml").write_text("order_markers: [订单号\nphone_markers: x\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"slots\.yaml:\d+"):
        PackData(scripts / "nlu").read_yaml("slots.yaml")


def test_yes_and_no_stay_words_in_every_file(scripts: Path) -> None:
    (scripts / "nlu" / "extra.yaml").write_text("answers: [yes, no, on, off]\n", encoding="utf-8")
    assert PackData(scripts / "nlu").read_yaml("extra.yaml") == {"answers": ["yes", "no", "on", "off"]}
