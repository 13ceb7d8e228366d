"""Replay: run a finished transcript through the engine in assist mode and tag every turn.

Customer turns get the NLU's reading (intent, emotion, confirmation, slots); agent and bot turns get the
stage(s) they fulfil; every turn records the script state before and after it. Pure: the engine step is.
"""

from __future__ import annotations

from typing import Any

from app.engine.events import AgentSaid, CustomerSaid
from app.engine.step import Engine
from app.qa.model import AGENT_ROLES, Replay, TurnTag
from app.transcripts import Transcript


def replay(engine: Engine, transcript: Transcript, *, flow: str | None = None) -> Replay:
    """Replay `transcript` (its own `flow` wins over `flow`; the engine's default flow otherwise).

    Raises `EngineError` (unknown flow, a flow that loops) for the caller to report per transcript.
    """
    first_ts = next((t.ts for t in transcript.turns if t.ts is not None), None)
    started = engine.start(
        transcript.id, flow=transcript.flow or flow, channel=transcript.channel, mode="assist", at=first_ts,
        with_suggestions=False,
    )
    conversation = started.conversation
    stages = {name: spec.stage for name, spec in engine.content.flows[conversation.flow].states.items()}
    tags: list[TurnTag] = []
    for index, turn in enumerate(transcript.turns):
        before = conversation.state
        heard: dict[str, Any]  # what the engine made of the turn: the agent's stage, or the customer's meaning
        if turn.role in AGENT_ROLES:
            agent = transcript.agent if turn.role == "agent" else None
            result = engine.step(conversation, AgentSaid(turn.text, agent=agent, at=turn.ts), with_suggestions=False)
            tag = result.tag
            heard = {
                "expected": stages.get(before),
                "stage": tag.stage if tag else None,
                "stages": tag.stages if tag else (),
                "phrase_id": tag.phrase_id if tag else None,
            }
        else:
            result = engine.step(conversation, CustomerSaid(turn.text, at=turn.ts), with_suggestions=False)
            analysis = result.analysis
            heard = {
                "intent": analysis.intent if analysis else None,
                "confidence": analysis.confidence if analysis else None,
                "emotion": analysis.emotion if analysis else None,
                "emotion_score": analysis.emotion_score if analysis else None,
                "confirmation": analysis.confirmation if analysis else None,
                "slots": dict(analysis.slots) if analysis else {},
            }
        conversation = result.conversation
        tags.append(
            TurnTag(
                index=index,
                role=turn.role,
                text=turn.text,
                ts=turn.ts,
                state_before=before,
                state=conversation.state,
                context=conversation.slots,
                **heard,
            )
        )
    return Replay(transcript.id, transcript.channel, transcript.agent, conversation.flow, tuple(tags),
                  transcript.partial_start, transcript.partial_end,
                  tuple(transcript.aftercare.get("commitments") or ()))
