"""The engine's only module that imports pytransitions (the complaint record has a machine of its own: app/aftercare/complaints.py).

One `Machine(model=None, auto_transitions=False)` per flow, built once and shared by every conversation:
a conversation is not a model registered with the machine, so a live conversation costs bytes, not a
machine (tens of KB) of its own.

Two ways through the same machine: `trigger` fires a pytransitions event on a throw-away cursor holding
the state name; `fire`, on the hot path, reads the machine's own transition table (`Event.transitions`,
compiled once) and checks the route conditions directly — the same first-passing-transition rule without
pytransitions' per-event bookkeeping (EventData, callback lists), which was a quarter of a QA replay's time.
`tests/engine/test_machine.py` checks that both agree for every state, trigger and route of the shipped flows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from transitions import EventData, Machine, MachineError

from app.content.model import STAGES, Flow, Route
from app.engine.conditions import TurnContext, holds
from app.errors import InvalidTransition, UnknownState

# Trigger names: part of the flow semantics documented in docs/flows.md.
CUSTOMER_MESSAGE: Final = "customer_message"
NEXT: Final = "next"
ACTION_DONE: Final = "action_done"
ACTION_FAILED: Final = "action_failed"
UNANSWERABLE: Final = "unanswerable"


def agent_trigger(stage: str) -> str:
    return f"agent_{stage}"


def goto_trigger(state: str) -> str:
    return f"goto_{state}"


class _Cursor:
    """The model pytransitions moves: the state name plus the route that got it there."""

    __slots__ = ("route", "state")

    def __init__(self, state: str) -> None:
        self.state = state
        self.route: Route | None = None


@dataclass(frozen=True, slots=True)
class Move:
    state: str
    trigger: str
    route: Route | None = None


class _RouteCondition:
    """A route's `when` as a pytransitions condition; keeps the route so the table can be read back."""

    __slots__ = ("route",)

    def __init__(self, route: Route) -> None:
        self.route = route

    def __call__(self, event: EventData) -> bool:
        return holds(self.route.when, event.kwargs["ctx"])


def _remember(route: Route) -> Callable[[EventData], None]:
    def after(event: EventData) -> None:
        cursor = event.model
        assert isinstance(cursor, _Cursor)
        cursor.route = route

    return after


class FlowMachine:
    """A compiled flow: which trigger leads where, under which conditions."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        machine = Machine(
            model=None,
            states=list(flow.states),
            initial=flow.initial,
            auto_transitions=False,
            send_event=True,
        )
        for spec in flow.states.values():
            routes = flow.routes_for(spec.name) if spec.waits_for_customer else spec.routes
            for route in routes:
                machine.add_transition(
                    CUSTOMER_MESSAGE,
                    spec.name,
                    route.goto,
                    conditions=[_RouteCondition(route)],
                    after=[_remember(route)],
                )
            for trigger, target in (
                (NEXT, spec.then),
                (ACTION_DONE, spec.on_done),
                (ACTION_FAILED, spec.on_failed),
                (UNANSWERABLE, spec.fallback),
            ):
                if target:
                    machine.add_transition(trigger, spec.name, target)
        for stage in STAGES:
            target = flow.state_for_stage(stage)
            if target:
                machine.add_transition(agent_trigger(stage), "*", target)
        for name in flow.states:
            machine.add_transition(goto_trigger(name), "*", name)
        self._machine = machine
        self._table = _read_table(machine)

    def can(self, state: str, trigger: str) -> bool:
        return (state, trigger) in self._table

    def fire(self, state: str, trigger: str, ctx: TurnContext) -> Move | None:
        """Take the first transition of `trigger` from `state` whose route condition holds; None if none does."""
        candidates = self._table.get((state, trigger))
        if candidates is None:
            self._explain_invalid(state, trigger)
        for dest, route in candidates or ():
            if route is None or holds(route.when, ctx):
                return Move(dest, trigger, route)
        return None

    def _explain_invalid(self, state: str, trigger: str) -> None:
        if state not in self.flow.states:
            raise UnknownState(f"flow {self.flow.name!r} has no state {state!r}")
        if trigger not in self._machine.events:
            raise InvalidTransition(f"flow {self.flow.name!r} has no trigger {trigger!r} (state {state!r})")
        raise InvalidTransition(f"flow {self.flow.name!r}: can't trigger event {trigger} from state {state}")

    def trigger(self, state: str, trigger: str, ctx: TurnContext) -> Move | None:
        """The same as `fire`, through pytransitions' own event processing."""
        if state not in self.flow.states:
            raise UnknownState(f"flow {self.flow.name!r} has no state {state!r}")
        event = self._machine.events.get(trigger)
        if event is None:
            raise InvalidTransition(f"flow {self.flow.name!r} has no trigger {trigger!r} (state {state!r})")
        cursor = _Cursor(state)
        try:
            moved = event.trigger(cursor, ctx=ctx)
        except MachineError as exc:
            raise InvalidTransition(f"flow {self.flow.name!r}: {exc.value}") from None
        return Move(cursor.state, trigger, cursor.route) if moved else None


def _read_table(machine: Machine) -> dict[tuple[str, str], tuple[tuple[str, Route | None], ...]]:
    """(source, trigger) → the machine's transitions in order, each with the route its condition tests."""
    table: dict[tuple[str, str], tuple[tuple[str, Route | None], ...]] = {}
    for name, event in machine.events.items():
        for source, transitions in event.transitions.items():
            entries = []
            for transition in transitions:
                routes = [c.func.route for c in transition.conditions if isinstance(c.func, _RouteCondition)]
                entries.append((str(transition.dest), routes[0] if routes else None))
            table[(source, name)] = tuple(entries)
    return table
