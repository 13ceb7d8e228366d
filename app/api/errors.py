"""Errors raised at the edge, each carrying the wire `code` of the error frame or HTTP answer.

    HuashuError (app.errors)
    └── ApiError              a frame or request the edge refuses: `code` is one of messages.ERROR_CODES
        └── Unauthorized      missing or wrong credentials (HTTP 401, WS `unauthorized`)

Engine and storage errors keep their own classes; the edges map them to codes (`error_code`).
"""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import BaseModel, Field

from app.aftercare.complaints import TransitionRefused
from app.errors import (
    ConversationNotFound,
    HuashuError,
    RecordConflict,
    RecordNotFound,
    StorageError,
    UnknownState,
)


class ApiError(HuashuError):
    code = "api_error"

    def __init__(self, code: str, message: str, *, ref: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.ref = ref


class Unauthorized(ApiError):
    def __init__(self, message: str = "missing or wrong credentials") -> None:
        super().__init__("unauthorized", message)


HTTP_STATUS: Final[dict[str, int]] = {
    "bad_json": 400,
    "invalid_field": 422,
    "not_found": 404,
    "unauthorized": 401,
    "unknown_state": 422,
    "transition_refused": 409,
    "conflict": 409,
    "engine_error": 422,
    "unavailable": 503,
}


def error_code(exc: BaseException) -> str:
    """The wire code for an exception that reached the edge."""
    if isinstance(exc, ApiError):
        return exc.code
    if isinstance(exc, ConversationNotFound | RecordNotFound):
        return "not_found"
    if isinstance(exc, TransitionRefused):
        return "transition_refused"
    if isinstance(exc, RecordConflict):
        return "conflict"
    if isinstance(exc, UnknownState):
        return "unknown_state"
    if isinstance(exc, StorageError):
        return "unavailable"
    if isinstance(exc, HuashuError):
        return "engine_error"
    return "internal_error"


class ErrorBody(BaseModel):
    """What every refusal of the REST API looks like (the WebSocket error frame's shape)."""

    type: Literal["error"] = "error"
    code: str = Field(description="bad_json, invalid_field, unauthorized, not_found, missing_facts, unavailable, …")
    message: str = Field(description="what is wrong, naming the field")


def _refusal(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


ERROR_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    400: _refusal("bad_json: the body is not valid JSON"),
    401: _refusal("unauthorized: missing or wrong credentials"),
    404: _refusal("not_found: no such conversation, commitment or complaint record (or path)"),
    409: _refusal("transition_refused or conflict: a complaint record cannot take that step (the message says why), "
                  "or it changed since it was read"),
    422: _refusal("invalid_field (or another code naming the problem): the request was read but refused"),
    503: _refusal("unavailable: the database failed; nothing was stored"),
}
