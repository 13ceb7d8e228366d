"""`/ws/chat`: the customer's widget. Decode a frame, call the service, let the outbox send."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from app.api.deps import Services, ServicesDep
from app.api.errors import ApiError
from app.api.frames import history_frame, started_frame
from app.api.logs import conversation_id_var
from app.api.messages import (
    CHAT_CLIENT,
    CHAT_CLIENT_TYPES,
    AckFrame,
    Frame,
    HistoryRequestFrame,
    MessageFrame,
    PingFrame,
    PongFrame,
    RateFrame,
    ResumeFrame,
    StartFrame,
)
from app.api.service import Live
from app.api.socket import Outbox, RateLimiter, serve_frames
from app.storage.models import StoredMessage

router = APIRouter()


class ChatSession:
    """One customer connection: at most one conversation, started or resumed."""

    def __init__(self, services: Services, outbox: Outbox, address: str = "unknown") -> None:
        self.services = services
        self.outbox = outbox
        self.address = address  # the client's IP address, for the limit on new conversations
        self.conversation_id: str | None = None

    async def handle(self, frame: Frame) -> None:
        match frame:
            case PingFrame():
                self.outbox.send(PongFrame())
            case StartFrame():
                self._not_yet()
                if not self.services.start_limits.allow(self.address):
                    raise ApiError("rate_limited", "too many new conversations from this address; wait a minute")
                live = await self.services.conversations.start(
                    flow=frame.flow,
                    mode=frame.mode,
                    channel=frame.channel,
                    customer=frame.customer,
                    subscriber=self.outbox,
                )
                self.conversation_id = live.id
                conversation_id_var.set(live.id)
            case ResumeFrame():
                self._not_yet()
                await self._resume(frame)
            case MessageFrame():
                await self._message(frame)
            case RateFrame():
                if self.conversation_id is None:
                    raise ApiError("not_started", "send start or resume first", ref=frame.id)
                turn = await self.services.conversations.rate(
                    self.conversation_id, frame.score, frame.comment, frame.id, origin=self.outbox.id
                )
                if turn.duplicate_of is not None:
                    self.outbox.send(AckFrame(id=frame.id, seq=turn.duplicate_of))
            case HistoryRequestFrame():
                if self.conversation_id is None:
                    raise ApiError("not_started", "send start or resume first")
                page, more = await self.services.conversations.history_page(
                    self.conversation_id, frame.after_seq, frame.limit)
                self.outbox.send(history_frame(page, more, include_system=False))

    def _not_yet(self) -> None:
        if self.conversation_id is not None:
            raise ApiError(
                "already_started", f"this connection already serves conversation {self.conversation_id}"
            )

    async def _resume(self, frame: ResumeFrame) -> None:
        def on_attached(live: Live, messages: list[StoredMessage], more: bool) -> None:
            self.outbox.send(started_frame(live.id, frame.token, live.conversation))
            self.outbox.send(history_frame(messages, more, include_system=False))
            # History ends at the server's last seq, whatever the client claims to have seen.
            self.outbox.min_seq = live.last_seq

        await self.services.conversations.attach(
            frame.conversation_id,
            self.outbox,
            token=frame.token,
            after_seq=frame.last_seq,
            on_attached=on_attached,
        )
        self.conversation_id = frame.conversation_id
        conversation_id_var.set(frame.conversation_id)

    async def _message(self, frame: MessageFrame) -> None:
        if self.conversation_id is None:
            raise ApiError("not_started", "send start or resume first", ref=frame.id)
        limit = self.services.settings.max_text_chars
        if len(frame.text) > limit:
            raise ApiError("invalid_field", f"text: longer than {limit} characters", ref=frame.id)
        if not self.services.message_limits.allow(self.conversation_id):
            raise ApiError("rate_limited", "too many messages in this conversation; wait, then resend with the same id",
                           ref=frame.id)
        turn = await self.services.conversations.customer_message(
            self.conversation_id, frame.id, frame.text, origin=self.outbox.id
        )
        if turn.duplicate_of is not None:
            self.outbox.send(AckFrame(id=frame.id, seq=turn.duplicate_of, replies=turn.replies))

    def detach(self) -> None:
        if self.conversation_id is not None:
            self.services.hub.unsubscribe(self.conversation_id, self.outbox)


@router.websocket("/ws/chat")
async def chat_socket(websocket: WebSocket, services: ServicesDep) -> None:
    await websocket.accept()
    settings = services.settings
    outbox = Outbox(websocket, "customer")
    session = ChatSession(services, outbox, websocket.client.host if websocket.client else "unknown")
    async with outbox.running():
        try:
            await serve_frames(
                websocket,
                outbox,
                max_bytes=settings.max_frame_bytes,
                adapter=CHAT_CLIENT,
                types=CHAT_CLIENT_TYPES,
                handle=session.handle,
                limiter=RateLimiter(settings.rate_limit_per_minute),
                metrics=services.metrics,
                endpoint="chat",
            )
        finally:
            session.detach()
