"""The FastAPI application: `create_app(settings)` builds it; its lifespan opens and closes the services."""

from __future__ import annotations

import asyncio
import secrets
import signal
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api import aftercare, letters, pages, rest, ws_assist, ws_chat, ws_queue
from app.api import qa as qa_api
from app.api.aftercare_recorder import AftercareRecorder
from app.api.auth import AgentAuth, MemoryNonces, NonceRegistry, RedisNonces
from app.api.deps import Services
from app.api.errors import ERROR_RESPONSES, HTTP_STATUS, error_code
from app.api.hub import Hub, RedisHub
from app.api.inputs import RejectUnencodableJson
from app.api.logs import redact_secrets_in_server_logs
from app.api.metrics import Metrics
from app.api.reload import PackReloader
from app.api.service import ConversationService
from app.api.socket import KeyedRateLimits
from app.config import Settings
from app.errors import HuashuError
from app.heap import serving_gc
from app.version import VERSION


async def open_services(settings: Settings, stack: AsyncExitStack) -> Services:
    """Open the store, load the demo orders, build engine, actions, bus and auth; close them on exit."""
    from app.actions.demo import load_demo_data
    from app.driver import build_runner, demo_data_path
    from app.runtime import build_engine
    from app.storage.migrate import open_store

    credentials = settings.agent_credentials()  # a malformed HUASHU_AGENT_TOKENS fails here, by name
    engine = build_engine(settings)
    store = await open_store(settings.database_url)
    stack.push_async_callback(store.close)
    if demo_data_path(settings).exists():
        rows, _labels = load_demo_data(demo_data_path(settings))
        await store.upsert_demo_orders(rows)
    runner = build_runner(settings, store)

    hub: Hub
    nonces: NonceRegistry
    if settings.redis_url:
        import redis.asyncio as redis

        client: Any = redis.from_url(settings.redis_url, socket_connect_timeout=5, health_check_interval=30)
        stack.push_async_callback(client.aclose)
        hub = RedisHub(client, channel=f"{settings.redis_prefix}:bus")
        nonces = RedisNonces(client, settings.redis_prefix)
    else:
        hub, nonces = Hub(), MemoryNonces()
    await hub.start()
    stack.push_async_callback(hub.close)
    conversations = ConversationService(
        store=store, engine=engine, runner=runner, hub=hub, cache_size=settings.conversation_cache
    )
    # Without Redis, used tickets are remembered in this process only: tickets must die with it.
    salt = b"" if isinstance(nonces, RedisNonces) else secrets.token_bytes(16)
    auth = AgentAuth(credentials, ticket_ttl=settings.ticket_ttl_seconds, nonces=nonces, ticket_salt=salt)
    metrics = Metrics()
    conversations.on_handoff = metrics.handoffs.inc
    conversations.after_commit = AftercareRecorder(store, lambda: conversations.engine.content.promises).after_turn
    metrics.watch(lambda: {
        "conversations_live": conversations.live_count, "commits": store.stats.commits,
        "commit_seconds": store.stats.commit_seconds, "failed_commits": store.stats.failed_commits,
        "bus_lag_seconds": getattr(hub, "lag_seconds", 0.0), "bus_batches": getattr(hub, "lag_count", 0),
        "bus_dropped": getattr(hub, "dropped", 0),
    })
    return Services(
        settings=settings, store=store, hub=hub, conversations=conversations, auth=auth,
        message_limits=KeyedRateLimits(settings.conversation_rate_per_minute),
        start_limits=KeyedRateLimits(settings.new_conversations_per_minute),
        metrics=metrics,
    )


def _reload_on_sighup(reloader: PackReloader, stack: AsyncExitStack) -> None:
    """`kill -HUP <pid>` reloads the pack (uvicorn itself does not handle SIGHUP in a worker)."""
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGHUP, lambda: reloader.reload_in_background(announce=True))
    except (NotImplementedError, RuntimeError, ValueError):  # no SIGHUP here, or not the main thread
        return
    stack.callback(loop.remove_signal_handler, signal.SIGHUP)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service. Settings are read from `HUASHU_*` here (not at import) unless given."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            app.state.huashu = await open_services(settings, stack)
            app.state.reloader = reloader = PackReloader(app.state.huashu)
            _reload_on_sighup(reloader, stack)
            stack.enter_context(serving_gc(settings.gc_thresholds))  # after start-up: what it built is frozen
            yield

    app = FastAPI(
        title="Huashu",
        version=VERSION,
        description="Scripted customer-service conversations: WebSocket chat and agent assist "
        "(see docs/protocol.md).",
        lifespan=lifespan,
    )
    for router in (rest.router, qa_api.router, letters.router, aftercare.router, pages.texts_router):
        app.include_router(router, responses=ERROR_RESPONSES)  # every refusal in the spec, with its shape
    app.include_router(ws_chat.router)
    app.include_router(ws_assist.router)
    app.include_router(ws_queue.router)
    app.include_router(pages.router)
    app.add_exception_handler(HuashuError, _error_response)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_response)  # type: ignore[arg-type]
    app.add_exception_handler(UnicodeEncodeError, _unencodable_response)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_response)  # type: ignore[arg-type]
    app.add_middleware(RejectUnencodableJson)
    redact_secrets_in_server_logs()
    return app


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"type": "error", "code": code, "message": message}, status_code=status, headers=headers
    )


async def _error_response(request: Request, exc: HuashuError) -> JSONResponse:
    code = error_code(exc)
    services = getattr(request.app.state, "huashu", None)
    if services is not None:
        services.metrics.errors.labels(code).inc()
    headers = {"WWW-Authenticate": "Bearer"} if code == "unauthorized" else None
    return _error(HTTP_STATUS.get(code, 500), code, getattr(exc, "message", None) or str(exc), headers)


async def _unencodable_response(request: Request, exc: UnicodeEncodeError) -> JSONResponse:
    # JSON may carry a lone surrogate ("\\ud800") that can be neither stored nor sent back as UTF-8.
    return _error(422, "invalid_field", "the request holds text that is not valid Unicode (a lone surrogate)")


async def _validation_response(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    broken = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if broken is not None:  # the body is not JSON at all: not a field's fault
        detail = (broken.get("ctx") or {}).get("error", "cannot be parsed")
        return _error(400, "bad_json", f"the request body is not valid JSON: {detail}")
    parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors]
    return _error(422, "invalid_field", "; ".join(parts))


async def _http_response(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    # Unknown paths and methods answer in the same shape as every other refusal, not {"detail": …}.
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return _error(exc.status_code, code, str(exc.detail), dict(exc.headers) if exc.headers else None)
