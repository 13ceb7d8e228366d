"""The architecture as import rules (issue 16): the pure core imports no edge, QA no web framework.

Every module's imports are read with `ast` (top-level and inside functions alike), so a lazy import
inside a function cannot slip past the rule.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from app.config import PROJECT_ROOT

APP = PROJECT_ROOT / "app"
# package → what it must not import (app packages, or third-party web frameworks)
RULES = {
    "engine": ("app.storage", "app.api", "app.actions", "app.qa", "app.letters", "fastapi", "starlette", "sqlalchemy", "sqlmodel"),
    "nlu": ("app.engine", "app.storage", "app.api", "app.actions", "app.qa", "app.letters", "fastapi", "starlette"),
    "qa": ("app.api", "fastapi", "starlette", "uvicorn"),
    "storage": ("app.api", "app.engine", "app.qa", "fastapi", "starlette"),
    "letters": ("app.api", "app.storage", "fastapi", "starlette"),
    "aftercare": ("app.api", "app.storage", "app.engine", "app.qa", "app.letters", "fastapi", "starlette", "sqlalchemy", "sqlmodel"),
    "content": ("app.api", "app.storage", "app.engine", "app.qa", "fastapi", "starlette"),
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(RULES))
def test_package_imports_only_what_its_layer_may(package: str) -> None:
    forbidden = RULES[package]
    offences = [
        f"{path.relative_to(PROJECT_ROOT)} imports {name}"
        for path in sorted((APP / package).rglob("*.py"))
        for name in sorted(imports_of(path))
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    ]
    assert offences == []


def test_the_rules_would_catch_an_offence(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from app.api.deps import Services\n", encoding="utf-8")
    assert "app.api.deps" in imports_of(module)
