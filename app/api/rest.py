"""REST: health, flows, phrasings, analyze/suggest (stateless), stored conversations, agent tickets.

Errors answer with the same shape as the WebSocket error frame: `{"type": "error", "code", "message"}`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from app.api.auth import customer_token_matches
from app.api.deps import AgentDep, BearerDep, Services, ServicesDep, bearer
from app.api.errors import ApiError, Unauthorized
from app.api.frames import suggestions_frame
from app.api.inputs import utc
from app.api.messages import SuggestionsFrame
from app.api.reload import PackReloader
from app.audit import audit
from app.content.catalog import phrase_to_dict, select_phrases
from app.content.diagram import to_json, to_mermaid
from app.content.errors import ContentErrors
from app.engine.conversation import Conversation
from app.engine.events import CustomerSaid
from app.errors import ConversationNotFound, HuashuError
from app.export import masked_summary, read_aftercare, to_transcript
from app.storage.models import StoredConversation, utc_now
from app.version import VERSION
from app.vocab import Channel

router = APIRouter()
MAX_PAGE = 200
MESSAGE_PAGE = 200  # stored messages per GET /api/conversations/{id}
MAX_POSITION = 2**31 - 1  # offsets and seqs beyond any store's integers are refused, not a database error
MAX_MESSAGE_PAGE = 1000
MAX_ANALYZE = 200


class AnalyzeRequest(BaseModel):
    """One line of `huashu analyze` input."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"text": "我的快递到哪了,订单号202611180001"}]}
    )
    text: str = Field(max_length=10_000)
    today: date | None = Field(
        default=None, description="date relative dates resolve against (default: today, UTC)"
    )
    id: str | int | None = Field(default=None, description="echoed back, as `huashu analyze` does")


class SuggestRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"state": "listen", "text": "我的快递到哪了", "slots": {"order_id": "202611180001"}}]
        },
    )
    flow: str | None = None
    state: str
    text: str = Field(default="", max_length=10_000)
    slots: dict[str, str] = Field(default_factory=dict)
    channel: Channel = Channel.ONLINE
    limit: int = Field(default=5, ge=1, le=50)


class TicketRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    conversation_id: str | None = Field(default=None, description="restrict the ticket to this conversation")


class TicketResponse(BaseModel):
    ticket: str
    agent: str
    expires_at: datetime
    expires_in: int


class ConversationPage(BaseModel):
    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int


@router.get("/healthz", tags=["service"])
async def healthz(services: ServicesDep) -> dict[str, Any]:
    return {
        "status": "degraded" if services.hub.degraded else "ok",
        "version": VERSION,
        "flows": sorted(services.engine.content.flows),
        "bus": type(services.hub).__name__,
        "bus_status": "degraded" if services.hub.degraded else "ok",
    }


# ---------------------------------------------------------------- content


@router.get("/metrics", tags=["service"], response_class=PlainTextResponse)
async def metrics(services: ServicesDep) -> PlainTextResponse:
    """Prometheus metrics of this worker (text exposition format; docs/deploy.md)."""
    try:
        counts = await services.store.commitment_counts(now=services.conversations.clock())
    except HuashuError:
        counts = {}  # the store is down: the rest of the metrics still say so (failed commits)
    for status, count in counts.items():
        services.metrics.commitments.labels(status).set(count)
    return PlainTextResponse(services.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


@router.get("/api/intents", tags=["content"])
async def list_intents(services: ServicesDep) -> dict[str, Any]:
    """The intents the served pack declares (docs/packs.md), with the content version."""
    content = services.engine.content
    return {
        "version": content.version,
        "intents": [
            {"intent": spec.name, "description": spec.description, "examples": len(spec.examples)}
            for spec in content.intents.values()
        ],
    }


@router.get("/api/flows", tags=["content"])
async def list_flows(services: ServicesDep) -> list[dict[str, Any]]:
    return [
        {
            "name": f.name,
            "version": f.version,
            "description": f.description,
            "channels": sorted(f.channels),
            "initial": f.initial,
        }
        for f in services.engine.content.flows.values()
    ]


@router.get("/api/flows/{name}", tags=["content"], response_model=None)
async def show_flow(
    name: str, services: ServicesDep, format: Literal["json", "mermaid"] = "json"
) -> dict[str, Any] | PlainTextResponse:
    flow = services.engine.content.flows.get(name)
    if flow is None:
        raise ApiError("not_found", f"no flow {name!r}; flows: {', '.join(services.engine.content.flows)}")
    if format == "mermaid":
        return PlainTextResponse(to_mermaid(flow))
    return to_json(flow)


@router.get("/api/phrases", tags=["content"])
async def list_phrases(
    services: ServicesDep,
    stage: str | None = None,
    scenario: str | None = None,
    q: Annotated[str | None, Query(description="text to look for in phrasings, ids and keywords")] = None,
    channel: str | None = None,
) -> list[dict[str, Any]]:
    selected = select_phrases(
        services.engine.content, stage=stage, scenario=scenario, channel=channel, query=q
    )
    return [phrase_to_dict(p) for p in selected]


@router.post("/api/analyze", tags=["engine"])
async def analyze(
    body: AnalyzeRequest | list[AnalyzeRequest], services: ServicesDep
) -> dict[str, Any] | list[dict[str, Any]]:
    """What `huashu analyze` prints for each input object (send one object, or a list of up to 200)."""
    items = body if isinstance(body, list) else [body]
    if len(items) > MAX_ANALYZE:
        raise ApiError("invalid_field", f"at most {MAX_ANALYZE} objects per request (got {len(items)})")
    for index, item in enumerate(items):
        try:
            item.text.encode("utf-8")
        except UnicodeEncodeError:
            raise ApiError("invalid_field", f"item {index}: text is not valid Unicode (lone surrogate)") from None

    def one(item: AnalyzeRequest) -> dict[str, Any]:
        result = services.engine.analyzer.describe(item.text, today=item.today or utc_now().date())
        return {"id": item.id, **result} if item.id is not None else result

    # NLU is CPU work: off the event loop, so a large batch does not stall every WebSocket.
    results = await run_in_threadpool(lambda: [one(item) for item in items])
    return results if isinstance(body, list) else results[0]


@router.post("/api/suggest", tags=["engine"], response_model=SuggestionsFrame)
async def suggest(body: SuggestRequest, services: ServicesDep) -> SuggestionsFrame:
    """Stateless: a conversation at `state` with `slots` hears `text`; what should the agent say next?

    The message is stepped exactly as in a live human-mode conversation (the script may move,
    slots in the text are filled); `state` in the answer is where that leaves the script.
    """
    engine = services.engine
    flow = engine.content.flows.get(body.flow or engine.default_flow)
    if flow is None:
        raise ApiError("not_found", f"no flow {body.flow!r}")
    if body.state not in flow.states:
        raise ApiError("unknown_state", f"flow {flow.name!r} has no state {body.state!r}")
    conversation = Conversation(
        id="suggest",
        flow=flow.name,
        flow_version=flow.version,
        channel=body.channel,
        mode="assist",
        state=body.state,
        slots=dict(body.slots),
    )
    intent = None
    if body.text.strip():
        result = engine.step(conversation, CustomerSaid(body.text, at=utc_now()), with_suggestions=False)
        conversation = result.conversation
        intent = result.analysis.intent if result.analysis else None
    return suggestions_frame(
        conversation.state, intent, engine.suggest(conversation, body.text, limit=body.limit)
    )


# ---------------------------------------------------------------- conversations


async def readable_conversation(
    conversation_id: str, services: ServicesDep, credentials: BearerDep
) -> StoredConversation:
    """An agent may read any conversation; a customer token opens its own conversation only."""
    token = bearer(credentials)
    if services.auth.agent_for(token) is not None:
        return await services.store.get_conversation(conversation_id)
    if token is None:
        raise Unauthorized("send Authorization: Bearer <agent token or this conversation's token>")
    try:
        conversation = await services.store.get_conversation(conversation_id)
    except ConversationNotFound:
        conversation = None  # answered like a wrong token: a customer token must not probe which ids exist
    if conversation is None or not customer_token_matches(token, conversation.token_hash):
        raise Unauthorized("this token does not open this conversation")
    return conversation


ReadableDep = Annotated[StoredConversation, Depends(readable_conversation)]


@router.get("/api/conversations", tags=["conversations"])
async def list_conversations(
    services: ServicesDep,
    agent: AgentDep,
    state: str | None = None,
    flow: str | None = None,
    date_: Annotated[date | None, Query(alias="date", description="created on this UTC day")] = None,
    since: Annotated[
        datetime | None, Query(description="created at or after (ISO 8601; naive = UTC)")
    ] = None,
    until: Annotated[datetime | None, Query(description="created before (ISO 8601; naive = UTC)")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_POSITION)] = 0,
    raw: Annotated[bool, Query(description="slots and customer unmasked; recorded in the audit log")] = False,
) -> ConversationPage:
    """Newest first. `date`, `since` and `until` combine (the narrowest window wins)."""
    since, until = utc(since), utc(until)
    if date_ is not None:
        day = datetime.combine(date_, time(), tzinfo=UTC)
        since = max(since, day) if since else day
        until = min(until, day + timedelta(days=1)) if until else day + timedelta(days=1)
    items, total = await services.store.list_conversations(
        state=state, flow=flow, since=since, until=until, limit=limit, offset=offset
    )
    if raw:
        audit("raw_list", by=agent, state=state, flow=flow, since=since, until=until, limit=limit, offset=offset)
    rows = [c.to_dict() if raw else masked_summary(c) for c in items]
    return ConversationPage(items=rows, total=total, limit=limit, offset=offset)


@router.get("/api/conversations/{conversation_id}", tags=["conversations"])
async def get_conversation(
    conversation: ReadableDep,
    services: ServicesDep,
    after_seq: Annotated[int, Query(ge=0, le=MAX_POSITION,
                                    description="messages after this seq (the previous page's next_after_seq)")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_MESSAGE_PAGE)] = MESSAGE_PAGE,
) -> dict[str, Any]:
    """The conversation and a page of its stored messages (events and suggestions shown included), oldest
    first; `has_more` and `next_after_seq` lead to the next page. A page at a time keeps a 5,000-turn
    conversation from holding up every other socket of the worker."""
    page = await services.store.messages(conversation.id, after_seq, limit + 1)
    more = len(page) > limit
    page = page[:limit]
    messages = await run_in_threadpool(lambda: [m.to_dict() for m in page])
    rating = await services.store.rating(conversation.id)
    return {**conversation.to_dict(), "rating": rating.to_dict() if rating else None, "messages": messages,
            "has_more": more, "next_after_seq": page[-1].seq if more and page else None}


@router.get("/api/conversations/{conversation_id}/export", tags=["conversations"])
async def export_conversation(
    conversation: ReadableDep,
    services: ServicesDep,
    credentials: BearerDep,
    raw: Annotated[bool, Query(description="unmasked personal data: agents only, recorded in the audit log")] = False,
) -> dict[str, Any]:
    """The transcript interchange format (what `huashu export` writes, one object per line), with phone,
    ID and bank card numbers and e-mail addresses masked unless an agent asks for `raw`."""
    if raw:
        _audit_raw(services, credentials, "raw_export", conversation_id=conversation.id)
    messages = await services.store.messages(conversation.id)
    aftercare = await read_aftercare(services.store, conversation.id, services.conversations.clock())
    return to_transcript(conversation, messages, mask=not raw, aftercare=aftercare).to_dict()


def _audit_raw(services: Services, credentials: Any, event: str, **details: Any) -> None:
    agent = services.auth.agent_for(bearer(credentials))
    if agent is None:
        raise Unauthorized("unmasked (raw) data needs agent credentials")
    audit(event, by=agent, **details)


@router.post("/api/admin/reload", tags=["admin"], responses={422: {"description": "the pack was refused"}})
async def reload_pack(request: Request, agent: AgentDep) -> Any:
    """Read the pack again and serve it if it passes the check; otherwise keep the running one and
    answer 422 with its defects (docs/packs.md)."""
    reloader: PackReloader = request.app.state.reloader
    try:
        done = await reloader.reload()
    except ContentErrors as exc:
        return JSONResponse(
            {"type": "error", "code": "pack_refused",
             "message": f"the pack has {len(exc.defects)} defect(s); the running pack stays",
             "defects": [defect.to_dict() for defect in exc.defects]},
            status_code=422,
        )
    return {"status": "reloaded", "pack": done.pack, "flows": list(done.flows), "intents": list(done.intents),
            "version": done.version, "by": agent}


@router.post("/api/agent/tickets", tags=["agents"], status_code=201)
async def issue_ticket(
    services: ServicesDep, agent: AgentDep, body: TicketRequest | None = None
) -> TicketResponse:
    """A single-use, short-lived ticket for a browser to open `/ws/assist/{id}?ticket=…`."""
    ticket, expires = services.auth.issue_ticket(agent, body.conversation_id if body else None)
    return TicketResponse(
        ticket=ticket,
        agent=agent,
        expires_at=datetime.fromtimestamp(expires, UTC),
        expires_in=services.auth.ticket_ttl,
    )


