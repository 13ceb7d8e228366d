"""The pages hold no Chinese of their own: every visible text is in scripts_zh/ui/<page>.yaml, and every
key a page names is there (`huashu check` says which are missing)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.config import PROJECT_ROOT
from app.content.ui import PAGES, WEB_DIR, load_ui_texts, named_keys, ui_defects

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


@pytest.mark.parametrize("page", sorted(p.name for p in WEB_DIR.iterdir() if p.suffix in (".html", ".js")))
def test_no_page_holds_chinese_text(page: str) -> None:
    found = CJK.findall((WEB_DIR / page).read_text(encoding="utf-8"))
    assert found == [], f"{page}: move {''.join(found)[:40]!r} to scripts_zh/ui/"


def test_every_key_a_shipped_page_names_is_in_its_file() -> None:
    assert ui_defects(PROJECT_ROOT / "scripts_zh") == []
    for page in PAGES:
        if (WEB_DIR / f"{page}.html").exists():
            assert named_keys(page) <= set(load_ui_texts(PROJECT_ROOT / "scripts_zh", page))


def test_a_missing_key_is_a_defect_naming_it(tmp_path: Path) -> None:
    (tmp_path / "ui").mkdir()
    (tmp_path / "ui" / "widget.yaml").write_text('title: "在线客服"\n', encoding="utf-8")

    defects = ui_defects(tmp_path)

    assert any("'input.send'" in d.message and d.file and d.file.endswith("widget.yaml") for d in defects)


def test_a_pack_without_ui_texts_uses_the_default_packs(tmp_path: Path) -> None:
    assert load_ui_texts(tmp_path, "widget")["input.send"] == "发送"


def test_a_text_that_is_not_text_is_refused(tmp_path: Path) -> None:
    from app.content.errors import ContentErrors

    (tmp_path / "ui").mkdir()
    (tmp_path / "ui" / "widget.yaml").write_text("title: [a, b]\n", encoding="utf-8")
    with pytest.raises(ContentErrors, match="'title' must be a text"):
        load_ui_texts(tmp_path, "widget")
