"""The audit trail: who took personal data out of the service unmasked, and when.

Records go to the `huashu.audit` logger as one line of JSON each, so an operator routes them to the
place audit logs are kept (a file, syslog, the log platform) with ordinary logging configuration.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, Final

AUDIT_LOGGER: Final = "huashu.audit"
log = logging.getLogger(AUDIT_LOGGER)


def audit(event: str, *, by: str, **details: Any) -> None:
    """Record `event` done by `by` (an agent's name, or the OS user of a CLI run), with its details."""
    record = {"event": event, "by": by, "at": datetime.now(UTC).isoformat(), **details}
    log.warning("%s", json.dumps(record, ensure_ascii=False, default=str))
