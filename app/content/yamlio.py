"""YAML reading that remembers line numbers, so every defect can point at its line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from app.content.errors import ContentDefect, ContentErrors, YamlSyntaxError


class LineDict(dict[str, Any]):
    """A mapping that knows the 1-based line it started on, and which keys it saw twice (YAML keeps the last)."""

    line: int = 0
    duplicate_keys: tuple[tuple[str, int], ...] = ()
    key_lines: dict[Any, int]


class _LineLoader(yaml.SafeLoader):  # type: ignore[misc]
    """SafeLoader with line numbers and YAML 1.2 booleans.

    YAML 1.1 reads `on:`, `yes` and `no` as booleans, which would turn a state's `on:` routes and
    `confirmation: yes` into True; only true/false are booleans here.
    """


_LineLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_LineLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    pairs = loader.construct_pairs(node, deep=True)
    mapping = LineDict(pairs)
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {key: key_node.start_mark.line + 1 for (key, _), (key_node, _) in zip(pairs, node.value, strict=True)}
    if len(mapping) != len(pairs):
        seen: set[Any] = set()
        duplicates = []
        for (key, _), (key_node, _) in zip(pairs, node.value, strict=True):
            if key in seen:
                duplicates.append((str(key), key_node.start_mark.line + 1))
            seen.add(key)
        mapping.duplicate_keys = tuple(duplicates)
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml_text(text: str, file: str) -> Any:
    """Parse YAML; syntax errors become `YamlSyntaxError` with file and line."""
    try:
        return yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or str(exc)
        raise YamlSyntaxError(
            f"YAML syntax error: {problem}", file=file, line=line, hint="fix the indentation/quoting there"
        ) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(f"YAML error: {exc}", file=file) from None


def line_of(value: Any, key: Any = None) -> int | None:
    """The line a mapping starts on, or (with `key`) the line of that key in it."""
    if not isinstance(value, LineDict):
        return None
    return value.key_lines.get(key, value.line) if key is not None else value.line


def read_text_file(path: Path, *, defect: type[ContentDefect] = YamlSyntaxError, missing_hint: str | None = None) -> str:
    """A content file's text, the one way every reader does it: a missing or unreadable file, or one that
    is not UTF-8 (an editor's GBK or UTF-16), raises `ContentErrors` with one `defect` naming file and line."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ContentErrors([defect(f"cannot read the file: {exc.strerror or exc}", file=str(path), hint=missing_hint)]) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        message = f"the file is not UTF-8 text ({exc.reason} at byte {exc.start + 1})"
        hint = "save it as UTF-8 (it holds Chinese text; GBK is not read)"
        raise ContentErrors([defect(message, file=str(path), line=line, hint=hint)]) from None


def read_yaml_file(path: Path, *, defect: type[ContentDefect] = YamlSyntaxError, missing_hint: str | None = None) -> Any:
    """`read_text_file`, then `load_yaml_text`: every defect as `ContentErrors`."""
    text = read_text_file(path, defect=defect, missing_hint=missing_hint)
    try:
        return load_yaml_text(text, str(path))
    except YamlSyntaxError as exc:
        raise ContentErrors([exc]) from None
