"""The HTML report's visible texts, read from `<scripts>/qa_report.yaml` (Chinese text lives in scripts_zh/).

Every key the page may use is declared here: `TEXTS` (headings, columns, chart titles…, each with the
`{placeholders}` it may use) and `NAMES` (how a role, severity, channel, stage, intent or emotion is shown).
A file that lacks a key, has an unknown key or placeholder, a value that is not text, or is not UTF-8 is
refused whole: `ContentErrors` of `QaReportError`s naming file, line and key. Ids, CSS classes and JSON keys
stay English; only what a reader sees comes from the file.
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from app.content.errors import ContentDefect, ContentErrors, YamlSyntaxError
from app.content.model import CHANNELS, SEVERITIES
from app.content.yamlio import line_of, load_yaml_text, read_text_file
from app.nlu.analysis import EMOTIONS
from app.qa.rulebook import TAG_STAGES
from app.transcripts import ROLES

REPORT_LABELS_FILE: Final = "qa_report.yaml"  # in the scripts folder, next to qa_rules.yaml

# key → the placeholders its text may use (the page fills them; a label may leave any out).
TEXTS: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        key: frozenset(fields)
        for key, fields in {
            "page.title": (),
            "page.fatal": (),
            "page.no_agent": (),
            "page.summary": (
                "transcripts", "mean", "median", "findings", "fatal", "errors", "skipped", "content", "rules",
            ),
            "charts.scores": (),
            "charts.rules": (),
            "headings.agents": (),
            "headings.channels": (),
            "headings.rules": (),
            "headings.skipped": (),
            "headings.transcripts": (),
            "headings.ratings": (),
            "ratings.summary": ("count", "average", "csat"),
            "columns.agent": (),
            "columns.channel": (),
            "columns.rule": (),
            "columns.transcripts": (),
            "columns.mean": (),
            "columns.median": (),
            "columns.min": (),
            "columns.findings": (),
            "columns.fatal": (),
            "columns.errors": (),
            "columns.points": (),
            "columns.source": (),
            "columns.where": (),
            "columns.problem": (),
            "columns.turn": (),
            "columns.role": (),
            "columns.text": (),
            "columns.tags": (),
            "columns.flow": (),
            "columns.intent": (),
            "columns.day": (),
            "columns.ratings": (),
            "columns.average_rating": (),
            "columns.csat": (),
            "skipped.none": (),
            "transcript.agent": ("agent",),
            "transcript.findings": ("count",),
            "tags.stage": ("stages",),
            "tags.intent": ("intent",),
            "finding.recommended": ("id", "text"),
            "finding.rewrite": ("text",),
        }.items()
    }
)
# group → the values whose names the page shows (`ReportLabels.name`).
NAMES: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "roles": ROLES,
        "severities": SEVERITIES,
        "channels": CHANNELS,
        "stages": TAG_STAGES,
        "emotions": EMOTIONS,
    }
)
# A pack declares its own intents, so `intents.<name>` keys are optional and open; an intent without
# one is shown by its name.
OPEN_GROUPS: Final = frozenset({"intents"})
KEYS: Final = frozenset(TEXTS) | frozenset(f"{group}.{value}" for group, values in NAMES.items() for value in values)


class QaReportError(ContentDefect):
    kind = "qa-report"


@dataclass(frozen=True, slots=True)
class ReportLabels:
    """The page's texts by dotted key (`headings.agents`, `roles.customer`); built by `parse_report_labels`."""

    texts: Mapping[str, str]
    file: str = ""

    def text(self, key: str, **values: object) -> str:
        """The text of `key` with its placeholders filled; not escaped (the page escapes what it writes)."""
        return self.texts[key].format_map(values)

    def name(self, group: str, value: str) -> str:
        """How `value` of `group` (`roles`, `stages`…) is shown; a value the file cannot know is shown as it is."""
        return self.texts.get(f"{group}.{value}", value)


def report_labels_file(scripts_dir: Path) -> Path:
    """Where a content folder keeps the report's texts: `<scripts>/qa_report.yaml`."""
    return scripts_dir / REPORT_LABELS_FILE


def load_report_labels(path: Path) -> ReportLabels:
    """Read and check a labels file; raises `ContentErrors` naming the file (and line and key) of each defect."""
    hint = f"add it (the shipped one is scripts_zh/{REPORT_LABELS_FILE})"
    text = read_text_file(path, defect=QaReportError, missing_hint=hint)
    return parse_report_labels(text, str(path))


def parse_report_labels(text: str, file: str = "<report labels>") -> ReportLabels:
    """Check labels YAML against `KEYS` and `TEXTS`; every defect is listed, not just the first."""
    try:
        raw = load_yaml_text(text, file)
    except YamlSyntaxError as exc:
        raise ContentErrors([exc]) from None
    if not isinstance(raw, dict):
        raise ContentErrors([QaReportError("the file must be a mapping of sections", file=file, line=1)])
    defects: list[ContentDefect] = []
    texts: dict[str, str] = {}
    seen: set[str] = set()  # a key with a bad value is reported as that, not also as missing
    for key, value, line in _leaves(raw, ""):
        seen.add(key)
        if key not in KEYS and key.split(".", 1)[0] not in OPEN_GROUPS:
            defects.append(QaReportError(f"unknown key {key!r}", file=file, line=line, hint="check the spelling"))
        elif not isinstance(value, str):
            defects.append(QaReportError(f"{key!r} must be a text", file=file, line=line))
        else:
            bad = _placeholders(value) - TEXTS.get(key, frozenset())
            if bad:
                allowed = ", ".join(sorted(TEXTS.get(key, frozenset()))) or "none"
                hint = f"placeholders of this key: {allowed}; write a literal brace as {{{{ or }}}}"
                message = f"{key!r} has unknown placeholder(s) {sorted(bad)}"
                defects.append(QaReportError(message, file=file, line=line, hint=hint))
            texts[key] = value
    for key in sorted(KEYS - seen):
        section = raw.get(key.split(".", 1)[0])
        hint = f"add it (every key is in the shipped scripts_zh/{REPORT_LABELS_FILE})"
        where = line_of(section) or line_of(raw)  # its section, else the top of the file
        defects.append(QaReportError(f"missing key {key!r}", file=file, line=where, hint=hint))
    if defects:
        raise ContentErrors(defects)
    return ReportLabels(MappingProxyType(texts), file)


def _leaves(mapping: Mapping[Any, Any], prefix: str) -> Iterator[tuple[str, Any, int | None]]:
    """(dotted key, value, line) of every non-mapping value, depth first."""
    for name, value in mapping.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping):
            yield from _leaves(value, key + ".")
        else:
            yield key, value, line_of(mapping, name)


def _placeholders(text: str) -> frozenset[str]:
    """The `{names}` a text uses; a stray brace is reported as the placeholder `{`."""
    try:
        return frozenset(field for _, field, _, _ in string.Formatter().parse(text) if field is not None)
    except ValueError:
        return frozenset({"{"})
