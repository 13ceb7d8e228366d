"""The QA rule configuration (`scripts_zh/qa_rules.yaml`): typed, validated at load time.

Every rule has the common settings (`enabled`, `weight`, `fatal`, `severity`, `message`, `source`,
`recommend`, `max_findings`, `max_deduction`, `severity_weights`, `fatal_severities`) and its own
parameters (thresholds, cue patterns), declared by the rule as `Param`s and checked here. A defect is a
`QaRuleError` naming file, line and rule; all defects of a file are raised together as `ContentErrors`.
Format: docs/qa.md.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal

from app.content.errors import ContentDefect, ContentErrors, YamlSyntaxError
from app.content.model import CHANNELS, SEVERITIES, STAGES, Content
from app.content.yamlio import line_of, load_yaml_text, read_text_file
from app.nlu.analysis import EMOTIONS

RULEBOOK_FILE: Final = "qa_rules.yaml"  # in the scripts folder, next to the phrasings it recommends
TAG_STAGES: Final = (*STAGES, "other")
_COMMON: Final = frozenset(
    {
        "enabled",
        "weight",
        "fatal",
        "severity",
        "message",
        "source",
        "recommend",
        "max_findings",
        "max_deduction",
        "severity_weights",
        "fatal_severities",
        "description",
        "name",
        "explain",
    }
)
_NEVER: Final = re.compile(r"(?!)")

ParamKind = Literal["cues", "number", "integer", "per_channel", "labels", "intents", "emotions", "stages", "choices"]


class QaRuleError(ContentDefect):
    kind = "qa-rule"


@dataclass(frozen=True, slots=True)
class Param:
    """One rule parameter: its kind, its default (None: required) and, for `choices`, the allowed values.

    `cues` are lists of Python regular expressions (plain words match literally), compiled into one pattern.
    """

    kind: ParamKind
    default: Any = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Recommend:
    """Which standard phrasing fits the point a finding marks: a stage, and preferred phrase ids in order."""

    stage: str
    phrases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleConfig:
    id: str
    enabled: bool = True
    weight: float = 5.0
    fatal: bool = False
    severity: str = "major"
    message: str = ""
    source: str = ""
    name: str = ""  # what a QA reviewer calls the rule (the dashboard, the report); the id stays for authors
    explain: str = ""  # one sentence a reviewer understands: what was expected
    recommend: Recommend | None = None
    max_findings: int | None = None
    max_deduction: float | None = None
    severity_weights: Mapping[str, float] = field(default_factory=dict)
    fatal_severities: frozenset[str] = frozenset()
    params: Mapping[str, Any] = field(default_factory=dict)
    line: int | None = None

    def points(self, severity: str) -> float:
        """Points one finding of this severity deducts."""
        return float(self.severity_weights.get(severity, self.weight))

    def is_fatal(self, severity: str) -> bool:
        return self.fatal or severity in self.fatal_severities

    def pattern(self, name: str) -> re.Pattern[str]:
        value = self.params[name]
        assert isinstance(value, re.Pattern)
        return value

    def number(self, name: str) -> float:
        return float(self.params[name])

    def integer(self, name: str) -> int:
        return int(self.params[name])

    def names(self, name: str) -> frozenset[str]:
        value = self.params[name]
        assert isinstance(value, frozenset)
        return value

    def label(self, name: str, key: str) -> str:
        value = self.params[name]
        assert isinstance(value, Mapping)
        return str(value.get(key, key))

    def per_channel(self, name: str, channel: str) -> float | None:
        value = self.params[name]
        assert isinstance(value, Mapping)
        found = value.get(channel)
        return None if found is None else float(found)


@dataclass(frozen=True, slots=True)
class Scoring:
    start: float = 100.0
    fatal_score: float = 0.0  # a transcript with a fatal finding scores at most this


@dataclass(frozen=True, slots=True)
class RuleBook:
    rules: Mapping[str, RuleConfig]  # every known rule, in file order; absent from the file = disabled
    scoring: Scoring = Scoring()
    version: str = ""
    file: str = ""

    @property
    def enabled(self) -> tuple[RuleConfig, ...]:
        return tuple(rule for rule in self.rules.values() if rule.enabled)

    def unknown_intents(self, content: Content, specs: Mapping[str, Mapping[str, Param]]) -> list[QaRuleError]:
        """Intent names in rule parameters that the pack does not declare (a pack declares its own)."""
        defects = []
        for rule in self.rules.values():
            for name, param in specs.get(rule.id, {}).items():
                value = rule.params.get(name)
                if param.kind != "intents" or not isinstance(value, frozenset):
                    continue
                unknown = sorted(value - set(content.intents))
                if unknown:
                    defects.append(QaRuleError(
                        f"rule {rule.id!r}: `{name}` has unknown intents {unknown}", file=self.file, line=rule.line,
                        hint=f"the pack declares: {', '.join(content.intents)}"))
        return defects

    def unknown_phrases(self, content: Content) -> list[QaRuleError]:
        """Recommended phrase ids that the content does not have (checked when an engine is at hand)."""
        defects = []
        for rule in self.rules.values():
            if rule.recommend is None:
                continue
            for phrase_id in rule.recommend.phrases:
                if phrase_id not in content.phrases:
                    defects.append(
                        QaRuleError(
                            f"rule {rule.id!r} recommends unknown phrase {phrase_id!r}",
                            file=self.file,
                            hint="use an id listed by `huashu phrases`",
                        )
                    )
        return defects


def load_rulebook(path: Path, specs: Mapping[str, Mapping[str, Param]]) -> RuleBook:
    """Read and validate a rules file; raises `ContentErrors` listing every defect (a missing or
    unreadable file is one, like the report labels' `load_report_labels`)."""
    hint = f"add it (the shipped one is scripts_zh/{RULEBOOK_FILE})"
    text = read_text_file(path, defect=QaRuleError, missing_hint=hint)
    return parse_rulebook(text, str(path), specs)


def parse_rulebook(text: str, file: str, specs: Mapping[str, Mapping[str, Param]]) -> RuleBook:
    """Validate rules YAML against the rules' parameter specs (`specs`: rule id → parameter name → Param)."""
    defects: list[ContentDefect] = []
    try:
        raw = load_yaml_text(text, file)
    except YamlSyntaxError as exc:
        raise ContentErrors([exc]) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("rules"), dict):
        raise ContentErrors([QaRuleError("the file must be a mapping with a `rules:` mapping", file=file, line=1)])
    scoring = _scoring(raw.get("scoring"), file, defects)
    rules: dict[str, RuleConfig] = {}
    for rule_id, body in raw["rules"].items():
        line = line_of(raw["rules"], rule_id)
        if rule_id not in specs:
            defects.append(
                QaRuleError(
                    f"unknown rule {rule_id!r}", file=file, line=line, hint=f"known rules: {', '.join(sorted(specs))}"
                )
            )
            continue
        if not isinstance(body, dict):
            defects.append(QaRuleError(f"rule {rule_id!r} must be a mapping", file=file, line=line))
            continue
        rules[rule_id] = _rule(str(rule_id), body, specs[rule_id], file, defects)
    if defects:
        raise ContentErrors(defects)
    for rule_id in specs:
        rules.setdefault(rule_id, RuleConfig(rule_id, enabled=False))
    version = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return RuleBook(MappingProxyType(rules), scoring, version, file)


def _scoring(raw: Any, file: str, defects: list[ContentDefect]) -> Scoring:
    if raw is None:
        return Scoring()
    if not isinstance(raw, dict):
        defects.append(QaRuleError("`scoring` must be a mapping", file=file))
        return Scoring()
    unknown = set(raw) - {"start", "fatal_score"}
    if unknown:
        defects.append(QaRuleError(f"`scoring` has unknown keys {sorted(unknown)}", file=file, line=line_of(raw)))
    start = _number(raw.get("start", 100), "scoring.start", file, line_of(raw, "start"), defects)
    fatal_score = _number(raw.get("fatal_score", 0), "scoring.fatal_score", file, line_of(raw, "fatal_score"), defects)
    return Scoring(start, fatal_score)


def _rule(rule_id: str, body: dict[str, Any], spec: Mapping[str, Param], file: str, out: list[ContentDefect]) -> RuleConfig:
    defects: list[ContentDefect] = []

    def fail(message: str, key: str | None = None, hint: str | None = None) -> None:
        defects.append(QaRuleError(f"rule {rule_id!r}: {message}", file=file, line=line_of(body, key), hint=hint))

    unknown = set(body) - _COMMON - set(spec)
    for key in sorted(unknown):
        fail(f"unknown key {key!r}", key, hint=f"parameters of this rule: {', '.join(sorted(spec)) or 'none'}")
    enabled = body.get("enabled", True)
    fatal = body.get("fatal", False)
    for key, value in (("enabled", enabled), ("fatal", fatal)):
        if not isinstance(value, bool):
            fail(f"`{key}` must be true or false", key)
    weight = _number(body.get("weight", 5), f"rule {rule_id!r}: weight", file, line_of(body, "weight"), defects)
    severity = body.get("severity", "major")
    if severity not in SEVERITIES:
        fail(f"`severity` must be one of {', '.join(SEVERITIES)}", "severity")
    for key in ("message", "source"):
        if not isinstance(body.get(key, ""), str):
            fail(f"`{key}` must be a string", key)
    max_findings = body.get("max_findings")
    if max_findings is not None and (not isinstance(max_findings, int) or isinstance(max_findings, bool) or max_findings < 1):
        fail("`max_findings` must be a positive integer", "max_findings")
    max_deduction = body.get("max_deduction")
    if max_deduction is not None:
        max_deduction = _number(max_deduction, f"rule {rule_id!r}: max_deduction", file, line_of(body, "max_deduction"), defects)
    severity_weights: dict[str, float] = {}
    raw_weights = body.get("severity_weights", {})
    if not isinstance(raw_weights, dict) or set(raw_weights) - set(SEVERITIES):
        fail(f"`severity_weights` must map {', '.join(SEVERITIES)} to numbers", "severity_weights")
    else:
        for name, value in raw_weights.items():
            severity_weights[name] = _number(value, f"rule {rule_id!r}: severity_weights.{name}", file, line_of(raw_weights, name), defects)
    fatal_severities = body.get("fatal_severities", [])
    if not isinstance(fatal_severities, list) or set(fatal_severities) - set(SEVERITIES):
        fail(f"`fatal_severities` must be a list of {', '.join(SEVERITIES)}", "fatal_severities")
        fatal_severities = []
    recommend = _recommend(body.get("recommend"), fail)
    params = {name: _param(name, param, body.get(name), fail) for name, param in spec.items()}
    out.extend(defects)
    return RuleConfig(
        id=rule_id,
        line=line_of(body),
        enabled=bool(enabled),
        weight=weight,
        fatal=bool(fatal),
        severity=str(severity),
        message=str(body.get("message", "")),
        source=str(body.get("source", "")),
        name=str(body.get("name", "")),
        explain=str(body.get("explain", "")),
        recommend=recommend,
        max_findings=max_findings,
        max_deduction=max_deduction,
        severity_weights=MappingProxyType(severity_weights),
        fatal_severities=frozenset(fatal_severities),
        params=MappingProxyType(params),
    )


def _recommend(raw: Any, fail: Any) -> Recommend | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or raw.get("stage") not in STAGES:
        fail(f"`recommend` must be a mapping with `stage` (one of {', '.join(STAGES)}) and optional `phrases`", "recommend")
        return None
    phrases = raw.get("phrases", [])
    if not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
        fail("`recommend.phrases` must be a list of phrase ids", "recommend")
        phrases = []
    return Recommend(str(raw["stage"]), tuple(phrases))


def _param(name: str, param: Param, value: Any, fail: Any) -> Any:
    if value is None:
        value = param.default
        if value is None:
            fail(f"missing parameter `{name}` ({param.kind})", None)
            return _NEVER if param.kind == "cues" else None
    kind = param.kind
    if kind == "cues":
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            fail(f"`{name}` must be a list of non-empty patterns", name)
            return _NEVER
        try:
            return re.compile("|".join(f"(?:{v})" for v in value)) if value else _NEVER
        except re.error as exc:
            fail(f"`{name}` has an invalid regular expression: {exc}", name, hint="escape ( ) [ ] ? * + . with a backslash")
            return _NEVER
    if kind in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            fail(f"`{name}` must be a non-negative number", name)
            return 0
        if kind == "integer" and not isinstance(value, int):
            fail(f"`{name}` must be a whole number", name)
        return value
    if kind == "per_channel":
        if not isinstance(value, dict) or set(value) - set(CHANNELS):
            fail(f"`{name}` must map channels ({', '.join(CHANNELS)}) to numbers", name)
            return MappingProxyType({})
        return MappingProxyType({k: float(v) for k, v in value.items() if isinstance(v, int | float)})
    if kind == "labels":
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            fail(f"`{name}` must map names to texts", name)
            return MappingProxyType({})
        return MappingProxyType({str(k): v for k, v in value.items()})
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        fail(f"`{name}` must be a list of names", name)
        return frozenset()
    if kind == "intents":  # a pack declares its own; `huashu check` compares them with the pack's intents
        return frozenset(value)
    allowed = {"emotions": EMOTIONS, "stages": TAG_STAGES, "choices": param.choices}[kind]
    bad = sorted(set(value) - set(allowed))
    if bad:
        fail(f"`{name}` has unknown {kind} {bad}", name, hint=f"allowed: {', '.join(allowed)}")
    return frozenset(value)


def _number(value: Any, what: str, file: str, line: int | None, defects: list[ContentDefect]) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        defects.append(QaRuleError(f"{what} must be a number", file=file, line=line))
        return 0.0
    return float(value)
