"""REST: formal letters (`POST /api/letters`) and e-mail intake (`POST /api/intake`), agent credentials.

Both read the served pack's `scripts_zh/letters/` on each call (a few small files; a pack reload is
therefore seen at once). Refusals use the error shape of the other routes, `{"type": "error", "code",
"message"}`; a letter that lacks facts answers 422 `missing_facts` with the list in `missing`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from app.api.deps import AgentDep, ServicesDep
from app.api.errors import ApiError
from app.api.hub import Delivery
from app.content.errors import ContentErrors
from app.engine.step import Engine
from app.errors import TranscriptError
from app.export import to_transcript
from app.letters.composer import MissingFacts, compose
from app.letters.intake import IntakeError, intake, read_email
from app.letters.pack import LetterPack, load_letter_pack
from app.letters.source import slots_from_transcript
from app.transcripts import Transcript
from app.vocab import Channel, WireMode

router = APIRouter(tags=["letters"])
MAX_EMAIL_CHARS = 200_000
EMAIL_FLOW = "email"


class LetterRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"kind": "consult", "slots": {
            "customer_name": "张先生", "product_model": "XQG100", "enquiry_date": "2026-11-18",
            "solution": "该产品保修期为自购买之日起十二个月"}}]},
    )
    kind: Literal["consult", "complaint", "thanks", "notice"]
    conversation_id: str | None = Field(default=None, description="a stored conversation the letter answers")
    transcript: dict[str, Any] | None = Field(default=None, description="a transcript in the interchange format")
    slots: dict[str, str] = Field(default_factory=dict, description="facts; they win over the conversation's")
    format: Literal["text", "markdown", "html", "json"] = "text"
    today: date | None = Field(default=None, description="the letter's date (default: today, UTC)")


class IntakeRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"email": "主题:洗衣机漏水\n你好,我11月3日买的洗衣机XQG100,用了两周就漏水,请尽快派人上门维修。"}]},
    )
    email: str = Field(min_length=1, max_length=MAX_EMAIL_CHARS, description="the e-mail: .eml source or plain text")
    today: date | None = None


@router.post("/api/letters", responses={404: {"description": "no such conversation"},
                                        422: {"description": "missing_facts: the letter lacks facts (listed)"}})
async def write_letter(body: LetterRequest, services: ServicesDep, agent: AgentDep) -> Any:
    """Draft a letter of the seed's kind from a conversation, a transcript or slots."""
    today = body.today or datetime.now(UTC).date()
    engine = services.engine
    known: dict[str, str] = {}
    if body.conversation_id is not None:
        stored = await services.store.get_conversation(body.conversation_id)
        transcript = to_transcript(stored, await services.store.messages(stored.id))
        slots = {k: v for k, v in stored.slots.items() if isinstance(v, str)}
        known = await run_in_threadpool(slots_from_transcript, transcript, engine, slots, today=today)
    elif body.transcript is not None:
        try:
            transcript = Transcript.from_dict(body.transcript)
        except TranscriptError as exc:
            raise ApiError("invalid_field", f"transcript: {exc}") from None
        known = await run_in_threadpool(slots_from_transcript, transcript, engine, None, today=today)
    pack = await run_in_threadpool(_pack, services.settings.scripts_dir, engine)
    try:
        letter = compose(pack.book, body.kind, {**known, **body.slots}, pack.facts, today=today)
    except MissingFacts as exc:
        return _missing(exc)
    return {**letter.to_dict(), "format": body.format, "rendered": letter.render(body.format)}


@router.post("/api/intake", status_code=201, responses={422: {"description": "the e-mail cannot be read"}})
async def take_in_email(body: IntakeRequest, services: ServicesDep, agent: AgentDep) -> Any:
    """Read a customer e-mail, open a conversation for it in the `email` channel (an agent answers it:
    the drafted reply waits for review) and return the intent, facts, missing facts, emotion and draft."""
    today = body.today or datetime.now(UTC).date()
    engine = services.engine
    pack = await run_in_threadpool(_pack, services.settings.scripts_dir, engine)
    try:
        email = read_email(body.email.encode("utf-8", errors="replace"))
        result = await run_in_threadpool(
            lambda: intake(email, engine.analyzer, pack.intake, pack.book, pack.facts, today=today))
    except IntakeError as exc:
        raise ApiError("invalid_field", f"email: {exc}") from None
    except MissingFacts as exc:
        return _missing(exc)
    conversation_id = None
    if EMAIL_FLOW in engine.content.flows:
        customer = {key: value for key, value in (("name", email.sender_name), ("email", email.sender_address)) if value}
        conversation_id = await _open_email_conversation(services, customer or None, email.body)
    return {"conversation_id": conversation_id, **result.to_dict()}


def _pack(scripts_dir: Any, engine: Engine) -> LetterPack:
    try:
        return load_letter_pack(scripts_dir, dict(engine.content.facts))
    except ContentErrors as exc:
        raise ApiError("engine_error", "the pack's letters are broken: " + "; ".join(d.describe() for d in exc.defects)) from None


def _missing(exc: MissingFacts) -> JSONResponse:
    return JSONResponse({"type": "error", "code": "missing_facts", "message": str(exc), "missing": list(exc.missing),
                         "described": exc.to_dict()["described"]}, status_code=422)


class _Inbox:
    """The subscriber of a conversation opened by intake: nobody is connected yet, frames are dropped
    (everything is stored; the agent workspace reads it from there)."""

    audience: Literal["customer", "agent"] = "agent"

    def __init__(self) -> None:
        self.id = f"intake-{uuid.uuid4().hex}"

    def deliver(self, delivery: Delivery) -> None:
        return None


async def _open_email_conversation(services: Any, customer: dict[str, Any] | None, text: str) -> str:
    inbox = _Inbox()
    live = await services.conversations.start(flow=EMAIL_FLOW, mode=WireMode.HUMAN, channel=Channel.EMAIL,
                                              customer=customer, subscriber=inbox)
    try:
        await services.conversations.customer_message(live.id, inbox.id, text, origin=inbox.id)
    finally:
        services.hub.unsubscribe(live.id, inbox)
    return str(live.id)
