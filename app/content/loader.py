"""Reading flows/*.yaml and scripts_zh/**/*.yaml into typed content, collecting every defect on the way.

Parsing (this module) turns YAML into `app.content.model` objects and reports schema defects;
`app.content.validate` then checks the whole for cross-references, reachability and coverage.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from app.aftercare.promises import RULES_FILE as PROMISE_RULES_FILE
from app.aftercare.promises import PromiseRules
from app.content.errors import (
    ContentDefect,
    ContentErrors,
    DuplicateId,
    SchemaError,
    YamlSyntaxError,
)
from app.content.model import (
    CHANNELS,
    DEFAULT_MIN_CONFIDENCE,
    SEVERITIES,
    STAGES,
    Condition,
    Content,
    Flow,
    ForbiddenPhrase,
    IntentSpec,
    Phrase,
    Restatement,
    Route,
    StageCues,
    StateSpec,
    Survey,
    Template,
)
from app.content.yamlio import LineDict, line_of, load_yaml_text, read_text_file
from app.nlu.analysis import CONFIRMATIONS, CORE_INTENTS, EMOTIONS

_Entry = TypeVar("_Entry", Phrase, IntentSpec)
_ID = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")
_CONDITION_KEYS = {
    "intent",
    "not_intent",
    "emotion",
    "confirmation",
    "handoff",
    "follow_up",
    "confidence_below",
    "topic",
    "slot_missing",
    "slot_present",
    "counter_at_least",
}
_STATE_KEYS = {
    "title",
    "stage",
    "say",
    "then",
    "on",
    "action",
    "on_done",
    "on_failed",
    "fallback",
    "require_match",
    "phrases",
    "final",
    "description",
}
_FLOW_KEYS = {
    "flow",
    "version",
    "description",
    "channels",
    "slots",
    "initial",
    "min_confidence",
    "always",
    "states",
    "topics",
    "counters",
    "takeover",
    "survey",
    "assist_also",
}


@dataclass
class _Collector:
    """Gathers defects so one `huashu check` run reports all of them."""

    defects: list[ContentDefect] = field(default_factory=list)
    # The pack's declared intents; None when a flow is parsed on its own (names are then not checked).
    intents: tuple[str, ...] | None = None

    def add(self, defect: ContentDefect) -> None:
        self.defects.append(defect)

    def duplicates(self, mapping: Any, file: str, what: str, flow: str | None = None) -> None:
        if isinstance(mapping, LineDict):
            for key, line in mapping.duplicate_keys:
                self.add(
                    DuplicateId(
                        f"{what} {key!r} is defined twice",
                        file=file,
                        line=line,
                        flow=flow,
                        hint="give each one a unique name",
                    )
                )


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _names(
    value: Any, allowed: Iterable[str] | None, key: str, ctx: dict[str, Any], out: _Collector
) -> frozenset[str]:
    names = frozenset(str(v) for v in _as_list(value))
    if allowed is not None:
        unknown = sorted(names - set(allowed))
        if unknown:
            out.add(
                SchemaError(
                    f"`{key}` has unknown value(s) {unknown}",
                    hint=f"use one of: {', '.join(allowed)}",
                    **ctx,
                )
            )
    return names


def _ordered_names(value: Any, allowed: Iterable[str], key: str, ctx: dict[str, Any], out: _Collector) -> tuple[str, ...]:
    """Like `_names`, for a list whose order matters: known names, first occurrence first."""
    known = _names(value, allowed, key, ctx, out)
    return tuple(dict.fromkeys(name for name in map(str, _as_list(value)) if name in known))


# ---------------------------------------------------------------- flows


def _parse_condition(raw: Any, ctx: dict[str, Any], out: _Collector) -> Condition:
    if raw is None:
        return Condition()
    if not isinstance(raw, dict):
        out.add(SchemaError("`when` must be a mapping of conditions", **ctx))
        return Condition()
    for key in sorted(set(raw) - _CONDITION_KEYS):
        out.add(
            SchemaError(
                f"unknown condition `{key}`",
                hint=f"conditions are: {', '.join(sorted(_CONDITION_KEYS))}",
                **ctx,
            )
        )
    confirmation = raw.get("confirmation")
    if confirmation is not None and confirmation not in CONFIRMATIONS:
        out.add(SchemaError(f"`confirmation` must be one of {CONFIRMATIONS}", **ctx))
    counters: dict[str, int] | None = None
    if "counter_at_least" in raw:
        value = raw["counter_at_least"]
        if isinstance(value, dict) and all(isinstance(v, int) for v in value.values()):
            counters = {str(k): int(v) for k, v in value.items()}
        else:
            out.add(SchemaError("`counter_at_least` must map counter names to integers", **ctx))
    below = raw.get("confidence_below")
    if below is not None and not isinstance(below, int | float):
        out.add(SchemaError("`confidence_below` must be a number between 0 and 1", **ctx))
        below = None
    handoff = raw.get("handoff")
    follow_up = raw.get("follow_up")
    if follow_up is not None and not isinstance(follow_up, bool):
        out.add(SchemaError("`follow_up` must be true or false", **ctx))
        follow_up = None
    return Condition(
        intents=_names(raw["intent"], out.intents, "intent", ctx, out) if "intent" in raw else None,
        not_intents=_names(raw["not_intent"], out.intents, "not_intent", ctx, out) if "not_intent" in raw else None,
        emotions=_names(raw["emotion"], EMOTIONS, "emotion", ctx, out) if "emotion" in raw else None,
        confirmation=confirmation if confirmation in CONFIRMATIONS else None,
        handoff=bool(handoff) if handoff is not None else None,
        follow_up=follow_up,
        confidence_below=float(below) if below is not None else None,
        topics=_names(raw["topic"], out.intents, "topic", ctx, out) if "topic" in raw else None,
        slots_missing=_names(raw["slot_missing"], None, "slot_missing", ctx, out) if "slot_missing" in raw else None,
        slots_present=_names(raw["slot_present"], None, "slot_present", ctx, out) if "slot_present" in raw else None,
        counters_at_least=counters,
    )


def _parse_routes(raw: Any, ctx: dict[str, Any], out: _Collector) -> tuple[Route, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        out.add(SchemaError("routes (`on` / `always`) must be a list", **ctx))
        return ()
    routes = []
    for item in raw:
        item_ctx = {**ctx, "line": line_of(item) or ctx.get("line")}
        if not isinstance(item, dict) or not isinstance(item.get("goto"), str):
            out.add(SchemaError("each route needs `goto: <state>`", hint="e.g. - {when: {intent: complaint}, goto: apology}", **item_ctx))
            continue
        for key in sorted(set(item) - {"when", "goto", "count", "reprocess"}):
            out.add(SchemaError(f"unknown route field `{key}`", hint="route fields are when, goto, count, reprocess", **item_ctx))
        count = item.get("count")
        routes.append(
            Route(
                goto=item["goto"],
                when=_parse_condition(item.get("when"), item_ctx, out),
                count=str(count) if count else None,
                reprocess=bool(item.get("reprocess", False)),
                line=item_ctx["line"],
            )
        )
    return tuple(routes)


def _parse_state(name: str, raw: Any, ctx: dict[str, Any], out: _Collector) -> StateSpec | None:
    ctx = {**ctx, "state": name}
    if not isinstance(raw, dict):
        out.add(SchemaError("a state must be a mapping with at least `stage`", **ctx))
        return None
    for key in sorted(set(raw) - _STATE_KEYS):
        out.add(SchemaError(f"unknown state field `{key}`", hint=f"state fields are: {', '.join(sorted(_STATE_KEYS))}", **ctx))
    stage = raw.get("stage")
    if stage not in STAGES:
        out.add(SchemaError(f"stage {stage!r} is not a known stage", hint=f"use one of: {', '.join(STAGES)}", **ctx))
        stage = "listen"
    final = bool(raw.get("final", False))
    phrases = tuple(str(p) for p in _as_list(raw.get("phrases")))
    return StateSpec(
        name=name,
        stage=stage,
        say=bool(raw.get("say", not final)),
        then=raw.get("then"),
        routes=_parse_routes(raw.get("on"), ctx, out),
        action=raw.get("action"),
        on_done=raw.get("on_done"),
        on_failed=raw.get("on_failed"),
        fallback=raw.get("fallback"),
        require_match=bool(raw.get("require_match", False)),
        phrases=phrases,
        final=final,
        title=str(raw.get("title") or ""),
        line=ctx["line"],
    )


def parse_flow(text: str, file: str = "<inline>", out: _Collector | None = None) -> Flow | None:
    """Parse one flow document; defects go to `out` (or are raised together when `out` is None)."""
    collector = out if out is not None else _Collector()
    try:
        raw = load_yaml_text(text, file)
    except YamlSyntaxError as defect:
        collector.add(defect)
        return None
    flow = _build_flow(raw, file, collector)
    if out is None and collector.defects:
        raise ContentErrors(collector.defects)
    return flow


def _build_flow(raw: Any, file: str, out: _Collector) -> Flow | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("flow"), str):
        out.add(SchemaError("a flow file must be a mapping with `flow: <name>`", file=file, line=1))
        return None
    name = raw["flow"]
    ctx: dict[str, Any] = {"file": file, "flow": name, "line": line_of(raw)}
    for key in sorted(set(raw) - _FLOW_KEYS):
        out.add(SchemaError(f"unknown flow field `{key}`", hint=f"flow fields are: {', '.join(sorted(_FLOW_KEYS))}", **ctx))
    states_raw = raw.get("states")
    if not isinstance(states_raw, dict) or not states_raw:
        out.add(SchemaError("`states` must be a non-empty mapping", **ctx))
        return None
    out.duplicates(states_raw, file, "state", flow=name)
    states = {}
    for state_name, state_raw in states_raw.items():
        spec = _parse_state(str(state_name), state_raw, {**ctx, "line": line_of(states_raw, state_name)}, out)
        if spec is not None:
            states[spec.name] = spec
    channels = _names(raw.get("channels", ["online"]), CHANNELS, "channels", ctx, out)
    initial = raw.get("initial") or next(iter(states_raw))
    min_confidence = raw.get("min_confidence", DEFAULT_MIN_CONFIDENCE)
    return Flow(
        name=name,
        version=str(raw.get("version", "1")),
        initial=str(initial),
        states=states,
        always=_parse_routes(raw.get("always"), {**ctx, "state": "always"}, out),
        channels=channels & set(CHANNELS),
        slots=tuple(str(s) for s in _as_list(raw.get("slots"))),
        description=str(raw.get("description", "")),
        min_confidence=float(min_confidence) if isinstance(min_confidence, int | float) else DEFAULT_MIN_CONFIDENCE,
        topics=_names(raw.get("topics"), out.intents, "topics", ctx, out),
        counters=tuple(str(c) for c in _as_list(raw.get("counters"))),
        takeover=str(raw["takeover"]) if raw.get("takeover") is not None else None,
        survey=bool(raw.get("survey", False)),
        assist_also=_ordered_names(raw.get("assist_also"), STAGES, "assist_also", ctx, out),
        file=file,
    )


# ---------------------------------------------------------------- scripts_zh


def _parse_phrases(raw: Any, file: str, out: _Collector) -> list[Phrase]:
    items = raw.get("phrases") if isinstance(raw, dict) else None
    if not isinstance(items, list):
        out.add(SchemaError("a phrase file must be a mapping with a `phrases:` list", file=file, line=1))
        return []
    phrases = []
    for item in items:
        line = line_of(item)
        ctx: dict[str, Any] = {"file": file, "line": line}
        if not isinstance(item, dict):
            out.add(SchemaError("each phrasing must be a mapping", **ctx))
            continue
        phrase_id = str(item.get("id", ""))
        if not _ID.match(phrase_id):
            out.add(SchemaError(f"phrase id {phrase_id!r} is missing or malformed", hint="use lowercase dotted ids like answer.warranty.period", **ctx))
            continue
        stage = item.get("stage")
        if stage not in STAGES:
            out.add(SchemaError(f"phrase {phrase_id!r} has unknown stage {stage!r}", hint=f"use one of: {', '.join(STAGES)}", **ctx))
            continue
        text = item.get("text")
        variants = _as_list(item.get("variants"))
        if not isinstance(text, str) or not text.strip() or not all(isinstance(v, str) for v in variants):
            out.add(SchemaError(f"phrase {phrase_id!r} needs a non-empty `text` (and string `variants`)", **ctx))
            continue
        templates = tuple(Template.parse(t) for t in [text, *variants])
        for variant in templates[1:]:
            if variant.placeholders != templates[0].placeholders:
                out.add(
                    SchemaError(
                        f"a variant of {phrase_id!r} uses placeholders {sorted(variant.placeholders)} "
                        f"but its text uses {sorted(templates[0].placeholders)}",
                        hint="every variant must use the same placeholders as `text`",
                        **ctx,
                    )
                )
        phrases.append(
            Phrase(
                id=phrase_id,
                stage=stage,
                scenarios=_names(item.get("scenarios"), out.intents, "scenarios", ctx, out),
                channels=_names(item.get("channels", list(CHANNELS)), CHANNELS, "channels", ctx, out),
                templates=templates,
                keywords=tuple(str(k) for k in _as_list(item.get("keywords"))),
                source=str(item.get("source", "")),
                file=file,
                line=line,
            )
        )
    return phrases


def _parse_facts(raw: Any, file: str, out: _Collector) -> dict[str, str]:
    facts = raw.get("facts") if isinstance(raw, dict) else None
    if not isinstance(facts, dict):
        out.add(SchemaError("facts.yaml must be a mapping with a `facts:` mapping", file=file, line=1))
        return {}
    out.duplicates(facts, file, "fact")
    result = {}
    for key, value in facts.items():
        if isinstance(value, dict | list) or value is None:
            out.add(SchemaError(f"fact {key!r} must be a single text value", file=file, line=line_of(facts)))
            continue
        result[str(key)] = str(value)
    return result


def _parse_forbidden(raw: Any, file: str, out: _Collector) -> list[ForbiddenPhrase]:
    items = raw.get("forbidden") if isinstance(raw, dict) else None
    if not isinstance(items, list):
        out.add(SchemaError("forbidden.yaml must be a mapping with a `forbidden:` list", file=file, line=1))
        return []
    entries = []
    for item in items:
        ctx: dict[str, Any] = {"file": file, "line": line_of(item)}
        if not isinstance(item, dict) or not item.get("id") or not item.get("phrase") or not item.get("replacement"):
            out.add(SchemaError("each forbidden entry needs `id`, `phrase` and `replacement`", **ctx))
            continue
        severity = item.get("severity", "major")
        if severity not in SEVERITIES:
            out.add(SchemaError(f"severity {severity!r} is not one of {SEVERITIES}", **ctx))
            severity = "major"
        try:
            pattern = re.compile(item.get("pattern") or re.escape(str(item["phrase"])))
        except re.error as exc:
            out.add(SchemaError(f"forbidden {item['id']!r} has an invalid regex: {exc}", **ctx))
            continue
        entries.append(
            ForbiddenPhrase(
                id=str(item["id"]),
                phrase=str(item["phrase"]),
                pattern=pattern,
                replacement=str(item["replacement"]),
                severity=severity,
                reason=str(item.get("reason", "")),
                source=str(item.get("source", "")),
            )
        )
    return entries


def _parse_stage_cues(raw: Any, file: str, out: _Collector) -> StageCues:
    """`stage_cues:` (stage → cues) and `no_act:` (cues of no act); a cue is a literal string or `{re: PATTERN}`."""
    cues = raw.get("stage_cues") if isinstance(raw, dict) else None
    if not isinstance(cues, dict):
        out.add(SchemaError("stage_cues.yaml must be a mapping with a `stage_cues:` mapping", file=file, line=1))
        return StageCues()
    result = {}
    for stage, items in cues.items():
        if stage not in STAGES:
            out.add(SchemaError(f"stage_cues has unknown stage {stage!r}", file=file, line=line_of(cues, stage), hint=f"use one of: {', '.join(STAGES)}"))
            continue
        result[str(stage)] = _cue_patterns(items, f"stage {stage!r}", file, line_of(cues, stage), out)
    no_act = raw.get("no_act")
    if no_act is not None and not isinstance(no_act, list):
        out.add(SchemaError("`no_act` must be a list of cues", file=file, line=line_of(raw, "no_act")))
        no_act = None
    return StageCues(result, _cue_patterns(no_act, "no_act", file, line_of(raw, "no_act"), out) if no_act else ())


def _cue_patterns(items: Any, where: str, file: str, line: int | None, out: _Collector) -> tuple[str, ...]:
    """Each cue as a regular-expression source: a literal is escaped, `{re: PATTERN}` is compiled to check it."""
    patterns = []
    for item in _as_list(items):
        if isinstance(item, dict):
            at = line_of(item) or line
            source = item.get("re")
            if set(item) != {"re"} or not isinstance(source, str) or not source:
                out.add(SchemaError(f"{where}: a pattern cue must be `{{re: PATTERN}}` and nothing else", file=file, line=at))
                continue
            try:
                compiled = re.compile(source)
            except re.error as exc:
                out.add(SchemaError(f"{where}: invalid regular expression {source!r}: {exc}", file=file, line=at))
                continue
            if compiled.match("") is not None:
                out.add(SchemaError(f"{where}: pattern {source!r} matches the empty text", file=file, line=at, hint="a cue must match at least one character"))
                continue
            patterns.append(source)
        elif isinstance(item, str | int | float) and not isinstance(item, bool) and str(item):
            patterns.append(re.escape(str(item)))
        else:
            out.add(SchemaError(f"{where}: a cue must be a text or `{{re: PATTERN}}`, got {item!r}", file=file, line=line))
    return tuple(patterns)


def _parse_restatement(raw: Any, file: str, out: _Collector) -> Restatement:
    spec = raw.get("restate") if isinstance(raw, dict) else None
    if not isinstance(spec, dict):
        out.add(SchemaError("restate.yaml must be a mapping with a `restate:` mapping", file=file, line=1))
        return Restatement()
    pronouns = spec.get("pronouns") or {}
    max_chars = spec.get("max_chars", 40)
    if not isinstance(pronouns, dict) or not isinstance(max_chars, int) or max_chars < 1:
        out.add(SchemaError("`pronouns` must be a mapping and `max_chars` a positive integer", file=file, line=line_of(spec)))
        return Restatement()
    return Restatement.build(
        tuple(str(p) for p in _as_list(spec.get("strip_prefixes"))),
        {str(k): str(v) for k, v in pronouns.items()},
        max_chars,
    )


def _parse_survey(raw: Any, file: str, out: _Collector) -> Survey | None:
    """`ask:`/`thanks:` (channel → text) and `scores:` (score → the words that say it), plus `fillers:`."""
    if not isinstance(raw, dict):
        out.add(SchemaError("survey.yaml must be a mapping with `ask`, `thanks` and `scores`", file=file, line=1))
        return None
    texts: dict[str, dict[str, str]] = {}
    for key in ("ask", "thanks"):
        value = raw.get(key)
        if not isinstance(value, dict) or not value or not all(isinstance(v, str) and v.strip() for v in value.values()):
            out.add(SchemaError(f"`{key}` must map channels to non-empty texts", file=file, line=line_of(raw, key)))
            return None
        unknown = sorted(set(map(str, value)) - set(CHANNELS))
        if unknown:
            out.add(SchemaError(f"`{key}` names unknown channels {unknown}", file=file, line=line_of(raw, key), hint=f"channels are: {', '.join(CHANNELS)}"))
        texts[key] = {str(k): v for k, v in value.items()}
    scores: dict[str, int] = {}
    for score, words in (raw.get("scores") or {}).items():
        if not isinstance(score, int) or not 1 <= score <= 5:
            out.add(SchemaError(f"score {score!r} is not 1–5", file=file, line=line_of(raw, "scores")))
            continue
        scores.update((str(word), score) for word in _as_list(words))
    fillers = sorted((str(f) for f in _as_list(raw.get("fillers"))), key=len, reverse=True)  # "颗星" before "星"
    return Survey(texts["ask"], texts["thanks"], scores, tuple(fillers))


# ---------------------------------------------------------------- intents

_INTENT_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_INTENT_KEYS = frozenset({"intent", "description", "examples"})
INTENTS_DIR = "nlu/intents"  # below a pack's scripts folder


def _parse_intents(raw: Any, file: str, out: _Collector) -> list[IntentSpec]:
    """One intent file: a YAML list of {intent, description, examples} (the public format, docs/packs.md)."""
    if not isinstance(raw, list):
        out.add(SchemaError("an intent file is a YAML list of {intent, description, examples}", file=file, line=1))
        return []
    intents = []
    for item in raw:
        line = line_of(item)
        if not isinstance(item, dict):
            out.add(SchemaError("each entry must be a mapping {intent, description, examples}", file=file, line=line))
            continue
        for key in sorted(set(item) - _INTENT_KEYS):
            out.add(SchemaError(f"unknown key `{key}` in an intent entry", file=file, line=line, hint="keys are intent, description, examples"))
        name, description, examples = item.get("intent"), item.get("description"), item.get("examples")
        if not isinstance(name, str) or not _INTENT_NAME.match(name):
            out.add(SchemaError(f"`intent` must be a lower-case name like order_status, not {name!r}", file=file, line=line))
            continue
        if not isinstance(description, str) or not description.strip():
            out.add(SchemaError(f"intent {name!r} needs a `description`", file=file, line=line, hint="say in one line what customers mean by it"))
        if not isinstance(examples, list) or not examples or not all(isinstance(e, str) and e.strip() for e in examples):
            out.add(SchemaError(f"intent {name!r} needs `examples`: a list of non-empty texts", file=file, line=line,
                                hint="quote texts YAML would read as numbers or booleans"))
            continue
        intents.append(IntentSpec(name, str(description or ""), tuple(examples), file, line or 0))
    return intents


def _collect_intents(scripts_dir: Path, out: _Collector, digest: Any) -> dict[str, IntentSpec]:
    intents: dict[str, IntentSpec] = {}
    folder = scripts_dir / INTENTS_DIR
    paths = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    if not paths:
        out.add(SchemaError("the pack declares no intents", file=str(folder), hint="add scripts_zh/nlu/intents/*.yaml (docs/packs.md)"))
    for spec, first in _unique_entries(paths, _parse_intents, lambda spec: spec.name, intents, out, digest):
        out.add(DuplicateId(f"intent {spec.name!r} is declared twice", file=spec.file, line=spec.line,
                            hint=f"first declared at {first.file}:{first.line}; merge the two entries"))
    missing = [name for name in CORE_INTENTS if name not in intents]
    if paths and missing:
        out.add(SchemaError(f"the pack lacks the core intent(s) {missing}", file=str(folder),
                            hint=f"every pack declares {', '.join(CORE_INTENTS)}: the engine and flows rely on them"))
    return intents


def _unique_entries(
    paths: Iterable[Path],
    parse: Callable[[Any, str, _Collector], list[_Entry]],
    key: Callable[[_Entry], str],
    into: dict[str, _Entry],
    out: _Collector,
    digest: Any,
) -> Iterator[tuple[_Entry, _Entry]]:
    """Parse each YAML file's entries into `into` by key, in file order; yields (repeat, first) for
    every key seen twice, for the caller to report in its own words."""
    for path in paths:
        raw = _read(path, out)
        if raw is None:
            continue
        digest.update(path.name.encode() + path.read_bytes())
        for entry in parse(raw, str(path), out):
            first = into.setdefault(key(entry), entry)
            if first is not entry:
                yield entry, first


# ---------------------------------------------------------------- the whole


def _read_text(path: Path, out: _Collector) -> str | None:
    """The file's text; a file that is not UTF-8 (e.g. saved as UTF-16 by an editor) is a defect, not a crash."""
    try:
        return read_text_file(path)
    except ContentErrors as exc:
        out.defects.extend(exc.defects)
    return None


def _read(path: Path, out: _Collector) -> Any:
    text = _read_text(path, out)
    if text is None:
        return None
    try:
        return load_yaml_text(text, str(path))
    except YamlSyntaxError as defect:
        out.add(defect)
        return None


def collect_content(flows_dir: Path, scripts_dir: Path) -> tuple[Content, list[ContentDefect]]:
    """Load everything that parses and list every defect found (parsing and validation)."""
    from app.content.validate import validate  # validation needs the parsed whole

    out = _Collector()
    digest = hashlib.sha256()
    intents = _collect_intents(scripts_dir, out, digest)
    out.intents = tuple(intents)
    flows: dict[str, Flow] = {}
    for path in sorted(flows_dir.glob("*.yaml")):
        text = _read_text(path, out)
        if text is None:
            continue
        digest.update(path.name.encode() + text.encode())
        flow = parse_flow(text, str(path), out)
        if flow is None:
            continue
        if flow.name in flows:
            out.add(DuplicateId(f"flow {flow.name!r} is defined in two files", file=str(path), line=1, flow=flow.name, hint=f"also in {flows[flow.name].file}"))
            continue
        flows[flow.name] = flow

    phrases: dict[str, Phrase] = {}
    phrase_files = sorted((scripts_dir / "phrases").glob("**/*.yaml")) if (scripts_dir / "phrases").is_dir() else []
    for phrase, first in _unique_entries(phrase_files, _parse_phrases, lambda phrase: phrase.id, phrases, out, digest):
        out.add(DuplicateId(f"phrase id {phrase.id!r} is used twice", file=phrase.file, line=phrase.line, hint=f"first defined at {first.file}:{first.line}; rename one"))

    def optional(name: str) -> Any:
        path = scripts_dir / name
        if not path.exists():
            out.add(SchemaError(f"{name} is missing", file=str(path), hint=f"add scripts_zh/{name}"))
            return None
        digest.update(name.encode() + path.read_bytes())
        return _read(path, out)

    facts_raw = optional("facts.yaml")
    forbidden_raw = optional("forbidden.yaml")
    cues_raw = optional("stage_cues.yaml")
    facts = _parse_facts(facts_raw, str(scripts_dir / "facts.yaml"), out) if facts_raw is not None else {}
    forbidden = _parse_forbidden(forbidden_raw, str(scripts_dir / "forbidden.yaml"), out) if forbidden_raw is not None else []
    seen_forbidden: set[str] = set()
    for entry in forbidden:
        if entry.id in seen_forbidden:
            out.add(DuplicateId(f"forbidden id {entry.id!r} is used twice", file=str(scripts_dir / "forbidden.yaml")))
        seen_forbidden.add(entry.id)
    cues = _parse_stage_cues(cues_raw, str(scripts_dir / "stage_cues.yaml"), out) if cues_raw is not None else StageCues()
    restate_raw = optional("restate.yaml")
    restatement = (
        _parse_restatement(restate_raw, str(scripts_dir / "restate.yaml"), out) if restate_raw is not None else Restatement()
    )

    survey_path = scripts_dir / "survey.yaml"
    survey = None
    if survey_path.exists():  # optional: a pack whose flows ask for no rating needs none
        digest.update(b"survey.yaml" + survey_path.read_bytes())
        survey_raw = _read(survey_path, out)
        survey = _parse_survey(survey_raw, str(survey_path), out) if survey_raw is not None else None

    promises = None
    promises_path = scripts_dir / PROMISE_RULES_FILE
    if promises_path.exists():  # optional: a pack without it tracks no promises
        digest.update(PROMISE_RULES_FILE.encode() + promises_path.read_bytes())
        promises_raw = _read(promises_path, out)
        if promises_raw is not None:
            try:
                promises = PromiseRules.from_data(promises_raw, str(promises_path))
            except SchemaError as defect:
                out.add(defect)

    content = Content(
        flows=flows,
        phrases=phrases,
        facts=facts,
        forbidden=tuple(forbidden),
        stage_cues=cues,
        restatement=restatement,
        survey=survey,
        promises=promises,
        intents=intents,
        version=digest.hexdigest()[:12],
    )
    out.defects.extend(validate(content))
    return content, out.defects


def load_intents(scripts_dir: Path) -> dict[str, IntentSpec]:
    """A pack's declared intents in declaration order; raises `ContentErrors` when the files are broken."""
    out = _Collector()
    intents = _collect_intents(scripts_dir, out, hashlib.sha256())
    if out.defects:
        raise ContentErrors(out.defects)
    return intents


def load_content(flows_dir: Path, scripts_dir: Path) -> Content:
    """Load and validate; raises `ContentErrors` listing every defect when anything is wrong."""
    content, defects = collect_content(flows_dir, scripts_dir)
    if defects:
        raise ContentErrors(defects)
    return content
