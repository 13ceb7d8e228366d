"""Flows as diagrams and JSON, rendered from the definition on request (never a GraphMachine at run time)."""

from __future__ import annotations

from typing import Any

from app.content.model import Condition, Flow, Route


def describe_condition(condition: Condition) -> str:
    parts = []
    for name in condition.__slots__:
        value = getattr(condition, name)
        if value is None:
            continue
        if isinstance(value, frozenset):
            value = "|".join(sorted(value))
        elif isinstance(value, dict):
            value = ",".join(f"{k}≥{v}" for k, v in value.items())
        parts.append(f"{name}={value}")
    return " & ".join(parts)


def _edges(flow: Flow) -> list[tuple[str, str, str]]:
    edges: list[tuple[str, str, str]] = []
    for spec in flow.states.values():
        routes: tuple[Route, ...] = flow.routes_for(spec.name) if spec.waits_for_customer else spec.routes
        for route in routes:
            label = describe_condition(route.when) or "otherwise"
            edges.append((spec.name, route.goto, label + (" ↻" if route.reprocess else "")))
        for label, target in (
            ("next", spec.then),
            ("action done", spec.on_done),
            ("action failed", spec.on_failed),
            ("nothing fits", spec.fallback),
        ):
            if target:
                edges.append((spec.name, target, label))
    return edges


def to_mermaid(flow: Flow) -> str:
    lines = ["stateDiagram-v2", f"    [*] --> {flow.initial}"]
    for spec in flow.states.values():
        lines.append(f"    {spec.name} : {spec.name} ({spec.stage})")
    for source, target, label in _edges(flow):
        safe = label.replace(":", " ").replace('"', "'")
        lines.append(f"    {source} --> {target} : {safe}")
    for spec in flow.states.values():
        if spec.final:
            lines.append(f"    {spec.name} --> [*]")
    return "\n".join(lines) + "\n"


def to_json(flow: Flow) -> dict[str, Any]:
    return {
        "flow": flow.name,
        "version": flow.version,
        "description": flow.description,
        "channels": sorted(flow.channels),
        "slots": list(flow.slots),
        "initial": flow.initial,
        "states": [
            {
                "name": spec.name,
                "title": spec.title or spec.name,
                "stage": spec.stage,
                "say": spec.say,
                "final": spec.final,
                "waits_for_customer": spec.waits_for_customer,
                "action": spec.action,
                "phrases": list(spec.phrases),
            }
            for spec in flow.states.values()
        ],
        "transitions": [{"source": s, "dest": d, "when": label} for s, d, label in _edges(flow)],
    }
