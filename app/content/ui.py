"""The pages' visible texts (`scripts_zh/ui/<page>.yaml`): the widget, the agent workspace and the QA dashboard
hold no Chinese of their own (docs/pages.md).

A page names a text by key: `data-t="key"` (its text), `data-t-placeholder="key"`, `data-t-title="key"`, or
`t("key")` in its script. The keys a page names are read from the page itself, so the check below
(`huashu check`) needs no second list: every key a page names must be in its file. A pack may bring its own
`ui/` texts; a page whose file the pack lacks uses the default pack's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from app.config import PROJECT_ROOT
from app.content.errors import ContentDefect, ContentErrors
from app.content.yamlio import line_of, read_yaml_file

WEB_DIR: Final = PROJECT_ROOT / "app" / "web"
DEFAULT_UI_DIR: Final = PROJECT_ROOT / "scripts_zh" / "ui"
PAGES: Final = ("widget", "agent", "qa")
_NAMED = re.compile(r"""data-t(?:-placeholder|-title)?="([^"]+)"|\bt\(\s*["']([^"']+)["']""")


class UiTextError(ContentDefect):
    kind = "ui"


def ui_file(scripts_dir: Path, page: str) -> Path:
    """The page's text file: the pack's when it has one, else the default pack's."""
    own = scripts_dir / "ui" / f"{page}.yaml"
    return own if own.exists() else DEFAULT_UI_DIR / f"{page}.yaml"


def load_ui_texts(scripts_dir: Path, page: str) -> dict[str, str]:
    """Key → text of one page (nested mappings are flattened with dots); raises `ContentErrors`."""
    path = ui_file(scripts_dir, page)
    raw = read_yaml_file(path, defect=UiTextError)
    if not isinstance(raw, Mapping):
        raise ContentErrors([UiTextError("a UI text file is a mapping of key: text", file=str(path), line=1)])
    texts: dict[str, str] = {}
    defects: list[ContentDefect] = []
    _flatten(raw, "", texts, defects, str(path))
    if defects:
        raise ContentErrors(defects)
    return texts


def named_keys(page: str, web_dir: Path = WEB_DIR) -> set[str]:
    """The keys a page's HTML and script name (`data-t…="key"`, `t("key")`); keys built at run time
    (`t("state." + name)`) are not literal and are not required."""
    text = (web_dir / f"{page}.html").read_text(encoding="utf-8")
    return {a or b for a, b in _NAMED.findall(text)}


def ui_defects(scripts_dir: Path, web_dir: Path = WEB_DIR) -> list[ContentDefect]:
    """For `huashu check`: unreadable files, and keys a page names that its file lacks."""
    defects: list[ContentDefect] = []
    for page in PAGES:
        if not (web_dir / f"{page}.html").exists():
            continue
        try:
            texts = load_ui_texts(scripts_dir, page)
        except ContentErrors as exc:
            defects += exc.defects
            continue
        missing = sorted(named_keys(page, web_dir) - set(texts))
        defects += [
            UiTextError(f"the {page} page shows text {key!r}, which the file lacks", file=str(ui_file(scripts_dir, page)),
                        hint=f"add `{key}: …` (the page names it)")
            for key in missing
        ]
    return defects


def _flatten(raw: Mapping[Any, Any], prefix: str, out: dict[str, str], defects: list[ContentDefect], file: str) -> None:
    for key, value in raw.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            _flatten(value, f"{name}.", out, defects, file)
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            out[name] = str(value)
        else:
            defects.append(UiTextError(f"{name!r} must be a text", file=file, line=line_of(raw, key)))
