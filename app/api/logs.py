"""The server's logs: secrets never reach them (uvicorn logs each request's path with its query string,
and an agent's WebSocket URL carries its ticket), and with `HUASHU_LOG_FORMAT=json` every line is one
JSON object carrying the conversation id of the socket that logged it — never a message's text."""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Final

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


# The conversation a socket's task serves: set by the WebSocket handlers, read by the JSON formatter.
conversation_id_var: ContextVar[str | None] = ContextVar("huashu_conversation_id", default=None)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, and the conversation id when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        conversation_id = conversation_id_var.get()
        if conversation_id is not None:
            entry["conversation_id"] = conversation_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def json_log_config(level: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` for uvicorn and the app: every logger through `JsonFormatter`."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "app.api.logs.JsonFormatter"}},
        "handlers": {"default": handler},
        "loggers": {
            "": {"handlers": ["default"], "level": level.upper()},
            "uvicorn": {"handlers": ["default"], "level": level.upper(), "propagate": False},
            "uvicorn.access": {"handlers": ["default"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"handlers": ["default"], "level": level.upper(), "propagate": False},
        },
    }
