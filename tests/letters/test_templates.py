"""Letter templates are data: checked like phrasings (placeholders, parts, order), every defect named."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from app.cli import app
from app.config import PROJECT_ROOT
from app.letters.pack import letter_defects
from app.letters.templates import KINDS, load_letters

runner = CliRunner()
FACTS = {"company_name": "华枢优品", "service_name": "客户服务中心", "hotline": "1", "service_hours": "2",
         "email_address": "a@b.c", "complaint_response_time": "24小时", "response_time": "24小时"}


def _copy(tmp_path: Path) -> Path:
    scripts = tmp_path / "scripts_zh"
    shutil.copytree(PROJECT_ROOT / "scripts_zh", scripts)
    return scripts


def test_the_shipped_letters_load_without_defects() -> None:
    book, defects = load_letters(PROJECT_ROOT / "scripts_zh", FACTS)
    assert defects == [] and set(book.templates) == set(KINDS)


def test_an_undeclared_placeholder_is_a_defect(tmp_path: Path) -> None:
    scripts = _copy(tmp_path)
    path = scripts / "letters" / "thanks.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("{reason}", "{gift}"), encoding="utf-8")
    messages = [d.describe() for d in letter_defects(scripts, FACTS)]
    assert any("thanks.yaml" in m and "{gift}" in m for m in messages)


def test_parts_out_of_the_seed_order_are_a_defect(tmp_path: Path) -> None:
    scripts = _copy(tmp_path)
    path = scripts / "letters" / "complaint.yaml"
    text = path.read_text(encoding="utf-8")
    # the apology after the explanation: the seed says apologise first
    apology = "  - part: apology\n    text: \"对于此事给您带来的不便与困扰,我们深表歉意。\"\n"
    assert apology in text
    text = text.replace(apology, "").replace("  - part: improvement\n", apology + "  - part: improvement\n")
    path.write_text(text, encoding="utf-8")
    messages = [d.describe() for d in letter_defects(scripts, FACTS)]
    assert any("complaint.yaml" in m and "part 'apology' comes after 'solution'" in m for m in messages)


def test_a_missing_kind_and_broken_yaml_are_defects(tmp_path: Path) -> None:
    scripts = _copy(tmp_path)
    (scripts / "letters" / "notice.yaml").unlink()
    (scripts / "letters" / "thanks.yaml").write_text("kind: thanks\nparts: [\n", encoding="utf-8")
    messages = [d.describe() for d in letter_defects(scripts, FACTS)]
    assert any("notice" in m for m in messages)
    assert any("thanks.yaml" in m and "syntax" in m.lower() for m in messages)


def test_huashu_check_reports_letter_defects_with_their_file(tmp_path: Path) -> None:
    scripts = _copy(tmp_path)
    path = scripts / "letters" / "consult.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("{solution}", "{answer_text}"), encoding="utf-8")
    result = runner.invoke(app, ["check", "--scripts", str(scripts), "--json"])
    assert result.exit_code == 1
    assert "answer_text" in result.output and "consult.yaml" in result.output


def test_a_pack_without_letters_passes_check() -> None:
    assert letter_defects(PROJECT_ROOT / "examples" / "telecom" / "scripts_zh", FACTS) == []
