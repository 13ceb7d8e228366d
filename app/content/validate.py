"""Whole-content checks: references, reachability, dead ends, placeholders and channel coverage."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from app.content.errors import (
    ContentDefect,
    DeadEndState,
    IntentWarning,
    MissingPhrasing,
    SchemaError,
    UnknownPhraseId,
    UnknownPlaceholder,
    UnknownStateError,
    UnreachableState,
)
from app.content.model import Content, Flow, Phrase, StateSpec

# Set by the engine itself, so flows need not declare them.
ENGINE_SLOTS = frozenset({"topic", "issue", "agent_name"})
# Counted by the engine itself from each message's emotion (app/engine/conversation.py).
ENGINE_COUNTERS = frozenset({"angry", "negative"})


def successors(spec: StateSpec, flow: Flow) -> Iterator[str]:
    """Where the script itself can lead from a state (an agent's `goto` is not part of the script)."""
    if spec.waits_for_customer:
        yield from (route.goto for route in flow.always)
    yield from (route.goto for route in spec.routes)
    for target in (spec.then, spec.on_done, spec.on_failed, spec.fallback):
        if target:
            yield target


def validate(content: Content) -> list[ContentDefect]:
    defects: list[ContentDefect] = []
    for flow in content.flows.values():
        defects.extend(_check_flow(flow, content))
        defects.extend(_check_counters(flow))
    defects.extend(_check_placeholders(content))
    return defects


def _check_flow(flow: Flow, content: Content) -> list[ContentDefect]:
    defects: list[ContentDefect] = []

    def at(spec: StateSpec | None, line: int | None = None) -> dict[str, object]:
        return {"file": flow.file, "flow": flow.name, "state": spec.name if spec else None, "line": line or (spec.line if spec else None)}

    if flow.initial not in flow.states:
        defects.append(UnknownStateError(f"initial state {flow.initial!r} does not exist", file=flow.file, flow=flow.name, line=1, hint="set `initial` to one of the states"))
        return defects
    if flow.survey:
        defects.extend(_check_survey(flow, content))
    if flow.takeover is not None and flow.takeover not in flow.states:
        defects.append(UnknownStateError(f"`takeover` names unknown state {flow.takeover!r}", file=flow.file, flow=flow.name, line=1, hint=f"states are: {', '.join(flow.states)}"))
    for stage in flow.assist_also:
        if flow.state_for_stage(stage) is None:
            defects.append(UnknownStateError(f"`assist_also` names stage {stage!r}, but no state of the flow speaks in it", file=flow.file, flow=flow.name, line=1, hint="add such a state or drop the stage"))
    for route in flow.always:
        if route.goto not in flow.states:
            defects.append(UnknownStateError(f"`always` route goes to unknown state {route.goto!r}", file=flow.file, flow=flow.name, line=route.line, hint=f"states are: {', '.join(flow.states)}"))
    for spec in flow.states.values():
        for route in spec.routes:
            if route.goto not in flow.states:
                defects.append(UnknownStateError(f"route goes to unknown state {route.goto!r}", **at(spec, route.line), hint=f"states are: {', '.join(flow.states)}"))  # type: ignore[arg-type]
        for field_name in ("then", "on_done", "on_failed", "fallback"):
            target = getattr(spec, field_name)
            if target and target not in flow.states:
                defects.append(UnknownStateError(f"`{field_name}` names unknown state {target!r}", **at(spec), hint=f"states are: {', '.join(flow.states)}"))  # type: ignore[arg-type]
        if spec.action and not (spec.on_done and spec.on_failed):
            defects.append(SchemaError(f"state runs action {spec.action!r} but lacks `on_done` or `on_failed`", **at(spec), hint="say where the script goes when the action succeeds and when it fails"))  # type: ignore[arg-type]
        if spec.waits_for_customer and not any(r.when.always for r in spec.routes):
            defects.append(SchemaError("waiting state has no catch-all route, so some messages would get no reply", **at(spec), hint="end its `on:` list with a route without `when`"))  # type: ignore[arg-type]
        for phrase_id in spec.phrases:
            phrase = content.phrases.get(phrase_id)
            if phrase is None:
                defects.append(UnknownPhraseId(f"phrase id {phrase_id!r} does not exist", **at(spec), hint="check the id in scripts_zh/phrases"))  # type: ignore[arg-type]
            elif phrase.stage != spec.stage:
                defects.append(SchemaError(f"phrase {phrase_id!r} is a {phrase.stage!r} phrasing but the state's stage is {spec.stage!r}", **at(spec)))  # type: ignore[arg-type]
        if spec.say:
            defects.extend(_check_coverage(flow, spec, content))
    if any(isinstance(d, UnknownStateError) for d in defects):
        return defects  # the graph checks below would only repeat these
    defects.extend(_check_graph(flow))
    return defects


def _check_survey(flow: Flow, content: Content) -> Iterator[ContentDefect]:
    """A flow that asks for a rating needs the survey's texts for each of its channels (email takes none)."""
    survey = content.survey
    if survey is None:
        yield MissingPhrasing("flow asks for a rating (`survey: true`) but scripts_zh/survey.yaml is missing", file=flow.file, flow=flow.name, line=1, hint="add scripts_zh/survey.yaml (docs/aftercare.md)")
        return
    for channel in sorted(flow.channels - {"email"}):
        for part, texts in (("ask", survey.ask), ("thanks", survey.thanks)):
            if channel not in texts:
                yield MissingPhrasing(f"survey has no `{part}` text for channel {channel!r}", file=flow.file, flow=flow.name, line=1, hint=f"add `{part}: {{{channel}: …}}` to scripts_zh/survey.yaml")


def _check_coverage(flow: Flow, spec: StateSpec, content: Content) -> Iterator[ContentDefect]:
    candidates: list[Phrase] = (
        [content.phrases[p] for p in spec.phrases if p in content.phrases]
        if spec.phrases
        else [p for p in content.phrases.values() if p.stage == spec.stage]
    )
    for channel in sorted(flow.channels):
        if not any(channel in p.channels for p in candidates):
            yield MissingPhrasing(
                f"stage {spec.stage!r} has no phrasing for channel {channel!r}",
                file=flow.file,
                flow=flow.name,
                state=spec.name,
                line=spec.line,
                hint=f"add a {spec.stage} phrasing with channels: [{channel}] to scripts_zh/phrases",
            )


def _check_graph(flow: Flow) -> Iterator[ContentDefect]:
    reachable = {flow.initial}
    queue = deque([flow.initial])
    while queue:
        for target in successors(flow.states[queue.popleft()], flow):
            if target not in reachable:
                reachable.add(target)
                queue.append(target)
    for spec in flow.states.values():
        if spec.name not in reachable:
            yield UnreachableState("state cannot be reached from the initial state", file=flow.file, flow=flow.name, state=spec.name, line=spec.line, hint="add a route to it or remove it")

    # Walk backwards from the final states: whatever they cannot be reached from is a dead end.
    predecessors: dict[str, set[str]] = {name: set() for name in flow.states}
    for spec in flow.states.values():
        for target in successors(spec, flow):
            predecessors[target].add(spec.name)
    finals = [s.name for s in flow.states.values() if s.final]
    if not finals:
        yield DeadEndState("the flow has no final state", file=flow.file, flow=flow.name, line=1, hint="mark the closing state with `final: true`")
        return
    can_finish = set(finals)
    queue = deque(finals)
    while queue:
        for source in predecessors[queue.popleft()]:
            if source not in can_finish:
                can_finish.add(source)
                queue.append(source)
    for spec in flow.states.values():
        if spec.name in reachable and spec.name not in can_finish:
            yield DeadEndState("no path leads from this state to a final state", file=flow.file, flow=flow.name, state=spec.name, line=spec.line, hint="add a route towards the closing states")


def _check_placeholders(content: Content) -> Iterator[ContentDefect]:
    declared = set(ENGINE_SLOTS) | set(content.facts)
    for flow in content.flows.values():
        declared |= set(flow.slots)
    for phrase in content.phrases.values():
        for name in sorted(phrase.placeholders - declared):
            yield UnknownPlaceholder(
                f"phrase {phrase.id!r} uses {{{name}}}, which is neither a declared slot nor a known fact",
                file=phrase.file,
                line=phrase.line,
                hint="declare the slot in a flow's `slots:` or add the fact to scripts_zh/facts.yaml",
            )


def _check_counters(flow: Flow) -> list[ContentDefect]:
    """Every counter a route counts is declared, and every counter a condition reads is counted by
    the flow or the engine: a misspelled counter would otherwise silently never fire."""
    defects: list[ContentDefect] = []
    declared = set(flow.counters)
    counted: set[str] = set()
    routes = [(None, route) for route in flow.always] + [(spec, r) for spec in flow.states.values() for r in spec.routes]
    for spec, route in routes:
        where = {"file": flow.file, "flow": flow.name, "state": spec.name if spec else "always", "line": route.line}
        if route.count is not None:
            counted.add(route.count)
            if route.count not in declared:
                defects.append(SchemaError(f"route counts undeclared counter {route.count!r}", **where,  # type: ignore[arg-type]
                                           hint=f"add it to the flow's `counters:` (declared: {', '.join(sorted(declared)) or 'none'})"))
    for spec, route in routes:
        where = {"file": flow.file, "flow": flow.name, "state": spec.name if spec else "always", "line": route.line}
        for name in route.when.counters_at_least or {}:
            if name in ENGINE_COUNTERS:
                continue
            if name not in declared:
                defects.append(SchemaError(f"condition reads undeclared counter {name!r}", **where,  # type: ignore[arg-type]
                                           hint=f"declared: {', '.join(sorted(declared)) or 'none'}; the engine counts {', '.join(sorted(ENGINE_COUNTERS))}"))
            elif name not in counted:
                defects.append(SchemaError(f"counter {name!r} is read but no route counts it, so the condition never holds", **where,  # type: ignore[arg-type]
                                           hint="add `count: NAME` to the route that should increment it"))
    return defects


MIN_EXAMPLES_PER_INTENT = 10  # below this, cross-validation shows the model guessing


def intent_warnings(content: Content) -> list[ContentDefect]:
    """What `huashu check` warns about in a pack's intents: too few examples, and one example
    listed under two intents (the model is then taught both answers for the same text)."""
    warnings: list[ContentDefect] = []
    owner: dict[str, str] = {}
    for spec in content.intents.values():
        if len(spec.examples) < MIN_EXAMPLES_PER_INTENT:
            warnings.append(IntentWarning(
                f"intent {spec.name!r} has {len(spec.examples)} example(s)", file=spec.file, line=spec.line,
                hint=f"give it at least {MIN_EXAMPLES_PER_INTENT}, written as customers write"))
        for example in spec.examples:
            key = "".join(example.split()).casefold()
            first = owner.setdefault(key, spec.name)
            if first != spec.name:
                warnings.append(IntentWarning(
                    f"example {example!r} is listed under {first!r} and {spec.name!r}", file=spec.file, line=spec.line,
                    hint="keep it under the intent it means"))
    return warnings
