"""Secrets never reach the server's logs: uvicorn logs each request's path with its query string, and an
agent's WebSocket URL carries its ticket (`/ws/assist/{id}?ticket=…`)."""

from __future__ import annotations

import logging
import re
from typing import Final

SERVER_LOGGERS: Final = ("uvicorn.access", "uvicorn.error")  # the error logger logs "WebSocket … [accepted]"
_SECRET_QUERY: Final = re.compile(r"((?:ticket|token)=)[^&\s\"']+", re.IGNORECASE)


class RedactSecrets(logging.Filter):
    """Replaces the value of `ticket=` and `token=` query parameters with `***` in a record's arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        elif isinstance(record.msg, str):
            record.msg = _redact(record.msg)
        return True


def _redact(text: str) -> str:
    return _SECRET_QUERY.sub(r"\1***", text)


def redact_secrets_in_server_logs() -> None:
    """Install the filter on uvicorn's loggers once per process (every worker builds the app)."""
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
