"""`/ws/assist/{conversation_id}`: the agent sidebar. Authenticate, snapshot, then agent commands."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, WebSocket

from app.api.auth import bearer_token
from app.api.deps import Services, ServicesDep
from app.api.errors import ApiError
from app.api.frames import history, history_frame, status_frame, suggestions_frame
from app.api.logs import conversation_id_var
from app.api.messages import (
    ASSIST_CLIENT,
    ASSIST_CLIENT_TYPES,
    AckFrame,
    AgentMessageFrame,
    Frame,
    GotoFrame,
    HistoryRequestFrame,
    PingFrame,
    PongFrame,
    ReleaseFrame,
    SetSlotFrame,
    SnapshotFrame,
    TakeoverFrame,
)
from app.api.service import Live
from app.api.socket import POLICY, Outbox, error_frame, serve_frames
from app.errors import HuashuError
from app.storage.models import StoredMessage
from app.vocab import wire_mode

router = APIRouter()


class AssistSession:
    """One agent connected to one conversation."""

    def __init__(self, services: Services, outbox: Outbox, conversation_id: str, agent: str) -> None:
        self.services = services
        self.outbox = outbox
        self.conversation_id = conversation_id
        self.agent = agent

    def on_attached(self, live: Live, messages: list[StoredMessage], more: bool) -> None:
        conversation = live.conversation
        self.outbox.send(
            SnapshotFrame(
                conversation_id=live.id,
                flow=conversation.flow,
                mode=wire_mode(conversation.mode),
                state=conversation.state,
                slots=dict(conversation.slots),
                awaiting_agent=conversation.awaiting_agent,
                ended=conversation.ended,
                messages=history(messages, include_system=True),
                more=more,
                next_after_seq=messages[-1].seq if more and messages else None,
            )
        )
        last_customer = next((m for m in reversed(messages) if m.role == "customer"), None)
        self.outbox.send(
            suggestions_frame(
                conversation.state,
                last_customer.intent if last_customer else None,
                self.services.conversations.suggestions_now(live),
            )
        )
        self.outbox.min_seq = live.last_seq

    async def handle(self, frame: Frame) -> None:
        service, cid, agent, origin = (
            self.services.conversations,
            self.conversation_id,
            self.agent,
            self.outbox.id,
        )
        match frame:
            case PingFrame():
                self.outbox.send(PongFrame())
            case HistoryRequestFrame():
                page, more = await service.history_page(cid, frame.after_seq, frame.limit)
                self.outbox.send(history_frame(page, more, include_system=True))
            case AgentMessageFrame():
                limit = self.services.settings.max_text_chars
                if len(frame.text) > limit:
                    raise ApiError("invalid_field", f"text: longer than {limit} characters", ref=frame.id)
                turn = await service.agent_message(
                    cid, agent, frame.text, phrase_id=frame.phrase_id, client_id=frame.id, origin=origin
                )
                if turn.duplicate_of is not None:
                    self.outbox.send(AckFrame(id=frame.id, seq=turn.duplicate_of))
            case SetSlotFrame():
                await service.set_slot(cid, agent, frame.name, frame.value, origin=origin)
            case GotoFrame():
                await service.goto(cid, agent, frame.state, origin=origin)
            case TakeoverFrame() | ReleaseFrame():
                mode = "assist" if isinstance(frame, TakeoverFrame) else "bot"
                turn = await service.set_mode(cid, agent, mode, origin=origin)
                if not turn.stored:  # nothing changed: tell the agent where things are anyway
                    self.outbox.send(status_frame(turn.after, for_agent=True, agent=agent))


async def authenticate_agent(
    services: Services, conversation_id: str, authorization: str | None, ticket: str | None
) -> str:
    """The agent behind a socket: a single-use ticket (for `conversation_id`, or for any) or the bearer token."""
    if ticket:
        return await services.auth.redeem_ticket(ticket, conversation_id)
    return services.auth.require_agent(authorization if bearer_token(authorization) else None)


@router.websocket("/ws/assist/{conversation_id}")
async def assist_socket(
    websocket: WebSocket,
    conversation_id: str,
    services: ServicesDep,
    ticket: str | None = None,
    authorization: Annotated[str | None, Header()] = None,
) -> None:
    await websocket.accept()
    conversation_id_var.set(conversation_id)
    outbox = Outbox(websocket, "agent")
    async with outbox.running():
        try:
            agent = await authenticate_agent(services, conversation_id, authorization, ticket)
            session = AssistSession(services, outbox, conversation_id, agent)
            await services.conversations.attach(
                conversation_id, outbox, token=None, after_seq=0, on_attached=session.on_attached
            )
        except HuashuError as exc:
            # Unauthorized or unknown conversation: nothing this socket can do.
            outbox.send(error_frame(exc, None))
            outbox.close(POLICY, getattr(exc, "code", "error"))
            return
        try:
            await serve_frames(
                websocket,
                outbox,
                max_bytes=services.settings.max_frame_bytes,
                adapter=ASSIST_CLIENT,
                types=ASSIST_CLIENT_TYPES,
                handle=session.handle,
                metrics=services.metrics,
                endpoint="assist",
            )
        finally:
            services.hub.unsubscribe(conversation_id, outbox)
