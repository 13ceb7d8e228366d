"""Errors raised at the edge, each carrying the wire `code` of the error frame or HTTP answer.

    HuashuError (app.errors)
    └── ApiError              a frame or request the edge refuses: `code` is one of messages.ERROR_CODES
        └── Unauthorized      missing or wrong credentials (HTTP 401, WS `unauthorized`)

Engine and storage errors keep their own classes; the edges map them to codes (`error_code`).
"""

from __future__ import annotations

from typing import Final

from app.errors import ConversationNotFound, HuashuError, StorageError, UnknownState


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
    "invalid_field": 422,
    "not_found": 404,
    "unauthorized": 401,
    "unknown_state": 422,
    "engine_error": 422,
    "unavailable": 503,
}


def error_code(exc: BaseException) -> str:
    """The wire code for an exception that reached the edge."""
    if isinstance(exc, ApiError):
        return exc.code
    if isinstance(exc, ConversationNotFound):
        return "not_found"
    if isinstance(exc, UnknownState):
        return "unknown_state"
    if isinstance(exc, StorageError):
        return "unavailable"
    if isinstance(exc, HuashuError):
        return "engine_error"
    return "internal_error"
