"""After a pack reload, a live conversation whose state the new flow no longer has resumes where the
script listens, and says so with an event (docs/packs.md)."""

from __future__ import annotations

from app.engine.events import CustomerSaid, StateEntered
from app.engine.step import RELOAD_TRIGGER, Engine


def test_a_conversation_in_a_vanished_state_resumes_at_the_listening_state(engine: Engine) -> None:
    started = engine.start("c-reload", mode="bot")
    conversation = started.conversation.copy()
    conversation.apply(StateEntered("removed_by_the_reload", conversation.state, "customer_message"))
    result = engine.step(conversation, CustomerSaid("七天无理由退货怎么算"))
    first = result.events[0]
    assert first == StateEntered("listen", "removed_by_the_reload", RELOAD_TRIGGER)
    assert result.conversation.state in engine.content.flows["default"].states
    assert [reply.stage for reply in result.replies][:1] == ["answer"]


def test_a_conversation_in_a_known_state_is_not_moved(engine: Engine) -> None:
    started = engine.start("c-stay", mode="bot")
    result = engine.step(started.conversation, CustomerSaid("你好"))
    assert all(e.trigger != RELOAD_TRIGGER for e in result.events if isinstance(e, StateEntered))
