"""`/ws/queue`: the agents' live queue. A `queue` frame with the open conversations, then a `queue_item`
whenever one starts, is handed to a person, changes who answers, ends, or its customer writes while a
person answers or is awaited — from every worker (the hub's `queue:agents` channel). Agent credentials: a
ticket (`POST /api/agent/tickets` without a conversation) or the bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, WebSocket

from app.api.deps import ServicesDep
from app.api.messages import QUEUE_CLIENT, QUEUE_CLIENT_TYPES, Frame, PingFrame, PongFrame, QueueFrame
from app.api.service import QUEUE_CHANNEL
from app.api.socket import POLICY, Outbox, error_frame, serve_frames
from app.api.ws_assist import authenticate_agent
from app.errors import HuashuError

router = APIRouter()


@router.websocket("/ws/queue")
async def queue_socket(
    websocket: WebSocket,
    services: ServicesDep,
    ticket: str | None = None,
    authorization: Annotated[str | None, Header()] = None,
) -> None:
    await websocket.accept()
    outbox = Outbox(websocket, "agent")
    async with outbox.running():
        try:
            await authenticate_agent(services, QUEUE_CHANNEL, authorization, ticket)
            # Subscribed before the snapshot is read: a change between the two arrives after it, never lost.
            services.hub.subscribe(QUEUE_CHANNEL, outbox)
            outbox.send(QueueFrame(items=await services.conversations.queue_snapshot()))
        except HuashuError as exc:
            outbox.send(error_frame(exc, None))
            outbox.close(POLICY, getattr(exc, "code", "error"))
            services.hub.unsubscribe(QUEUE_CHANNEL, outbox)
            return

        async def handle(frame: Frame) -> None:
            if isinstance(frame, PingFrame):
                outbox.send(PongFrame())

        try:
            await serve_frames(websocket, outbox, max_bytes=services.settings.max_frame_bytes, adapter=QUEUE_CLIENT,
                               types=QUEUE_CLIENT_TYPES, handle=handle, metrics=services.metrics, endpoint="queue")
        finally:
            services.hub.unsubscribe(QUEUE_CHANNEL, outbox)
