"""Domain types of the transcript store: what callers hand in and what they get back.

These are plain frozen dataclasses so the engine and the API never see SQLModel rows;
`tables.py` holds the `…Record` table types and the API owns the wire models.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Final

from app.errors import StorageError
from app.vocab import Channel, Role, WireMode

Mode = WireMode  # the store keeps the wire's word for who answers

CHANNELS: frozenset[str] = frozenset(Channel)
MODES: frozenset[str] = frozenset(WireMode)
ROLES: frozenset[str] = frozenset(Role)
DEMO_ORDER_FIELDS: tuple[str, ...] = ("order_id", "status", "carrier", "tracking_no", "eta", "product")

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def utc_now() -> datetime:
    """The stores' default clock (for `stored_at` and `updated_at`)."""
    return datetime.now(UTC)


def hash_token(token: str) -> str:
    """The `token_hash` to store for a customer's token: we keep a verifier, never the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def as_utc(value: datetime, what: str) -> datetime:
    """`value` in UTC; naive datetimes are refused because their zone would be a guess."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {value!r}")
    return value.astimezone(UTC)


# One encoder for every call: `json.dumps` with options builds a new JSONEncoder each time.
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False)


def json_text(value: Any, what: str) -> str:
    """`value` as the JSON text a SQL backend stores; StorageError if it has no JSON form."""
    try:
        return _ENCODER.encode(value)
    except (TypeError, ValueError) as exc:
        raise StorageError(f"{what} is not JSON-serialisable: {exc}") from exc


def json_copy(value: Any, what: str) -> Any:
    """A JSON round-trip of `value`: the exact shape a SQL backend would give back.

    Both stores pass every JSON column through this (or `json_text`), so the in-memory twin
    refuses what the database would refuse and returns tuples as lists just like the database does.
    """
    return json.loads(json_text(value, what))


def _check_choice(value: str, allowed: frozenset[str], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {sorted(allowed)}, got {value!r}")


@dataclass(frozen=True)
class NewConversation:
    """A conversation to create. `token_hash` is `hash_token(token)`, never the token itself."""

    id: str
    flow: str
    flow_version: str
    channel: Channel
    mode: Mode
    state: str
    slots: dict[str, Any]
    counters: dict[str, Any]
    customer: dict[str, Any] | None
    token_hash: str
    created_at: datetime
    agent: str | None = None

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("conversation id must not be empty")
        _check_choice(self.channel, CHANNELS, "channel")
        _check_choice(self.mode, MODES, "mode")
        # A raw token slipping in here would be a credential leak at rest; a sha256 hex cannot be one.
        if not _SHA256_HEX.fullmatch(self.token_hash):
            raise ValueError("token_hash must be a lowercase sha256 hex digest (use hash_token)")
        as_utc(self.created_at, "created_at")


@dataclass(frozen=True)
class ConversationSnapshot:
    """The conversation's current state after the messages of one `append`."""

    state: str
    slots: dict[str, Any]
    counters: dict[str, Any]
    mode: Mode
    ended_at: datetime | None
    agent: str | None

    def __post_init__(self) -> None:
        _check_choice(self.mode, MODES, "mode")
        if self.ended_at is not None:
            as_utc(self.ended_at, "ended_at")


@dataclass(frozen=True)
class NewMessage:
    """One line of the transcript plus the engine events its turn produced."""

    role: Role
    text: str
    state_before: str
    state_after: str
    intent: str | None
    phrase_id: str | None
    suggestions: list[dict[str, Any]]
    client_message_id: str | None
    events: list[dict[str, Any]]
    created_at: datetime

    def __post_init__(self) -> None:
        _check_choice(self.role, ROLES, "role")
        if self.client_message_id == "":
            # "" would be a real key shared by every such message; absent means None.
            raise ValueError("client_message_id must be None or non-empty")
        as_utc(self.created_at, "created_at")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class StoredMessage(NewMessage):
    """A committed message: the `NewMessage` columns plus where and when it was stored (declared once:
    the fields of `NewMessage` are this one's too). `duplicate` is True when `append` found it stored."""

    conversation_id: str
    seq: int
    stored_at: datetime
    duplicate: bool = False

    @classmethod
    def of(cls, message: NewMessage, *, conversation_id: str, seq: int, stored_at: datetime,
           **changes: Any) -> StoredMessage:
        """`message` as stored: its columns (with `changes`) plus conversation, seq and time."""
        columns = {name: getattr(message, name) for name in NEW_MESSAGE_FIELDS}
        return cls(**{**columns, **changes}, conversation_id=conversation_id, seq=seq, stored_at=stored_at)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; datetimes as ISO 8601 strings."""
        data = asdict(self)
        data["created_at"] = _iso(self.created_at)
        data["stored_at"] = _iso(self.stored_at)
        return data


NEW_MESSAGE_FIELDS: Final = tuple(f.name for f in fields(NewMessage))
# A message row's columns, as `StoredMessage` names them (the table in tables.py must match: tests check).
STORED_MESSAGE_FIELDS: Final = tuple(f.name for f in fields(StoredMessage) if f.name != "duplicate")


@dataclass(frozen=True)
class StoredConversation:
    """A conversation row as stored, current state included."""

    id: str
    flow: str
    flow_version: str
    channel: Channel
    mode: Mode
    state: str
    slots: dict[str, Any]
    counters: dict[str, Any]
    customer: dict[str, Any] | None
    token_hash: str = field(repr=False)
    agent: str | None
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; datetimes as ISO strings. `token_hash` is left out: it is for checks, not the wire."""
        data = asdict(self)
        del data["token_hash"]
        data["created_at"] = _iso(self.created_at)
        data["updated_at"] = _iso(self.updated_at)
        data["ended_at"] = _iso(self.ended_at)
        return data


def demo_order_row(row: dict[str, Any]) -> dict[str, str]:
    """Validate one demo order row: exactly the DEMO_ORDER_FIELDS, all strings."""
    missing = [name for name in DEMO_ORDER_FIELDS if name not in row]
    extra = sorted(set(row) - set(DEMO_ORDER_FIELDS))
    if missing or extra:
        raise ValueError(f"demo order row: missing {missing}, unexpected {extra}")
    bad = [name for name in DEMO_ORDER_FIELDS if not isinstance(row[name], str)]
    if bad:
        raise ValueError(f"demo order row {row.get('order_id')!r}: fields {bad} must be strings")
    return {name: row[name] for name in DEMO_ORDER_FIELDS}
