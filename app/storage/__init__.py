"""Transcript storage: SQLModel tables, the `TranscriptStore` seam (SQL + in-memory), migrations.

    from app.storage import open_store
    store = await open_store(settings.database_url)   # migration policy applied, store opened

See docs/storage.md for the durability and idempotency contract.
"""

from __future__ import annotations

from app.storage.memory import MemoryTranscriptStore
from app.storage.migrate import current_revision, ensure_migrated, head_revision, open_store, upgrade
from app.storage.models import (
    ConversationSnapshot,
    NewConversation,
    NewMessage,
    StoredConversation,
    StoredMessage,
    hash_token,
)
from app.storage.sql import SqlTranscriptStore
from app.storage.store import StoreStats, TranscriptStore

__all__ = [
    "ConversationSnapshot",
    "MemoryTranscriptStore",
    "NewConversation",
    "NewMessage",
    "SqlTranscriptStore",
    "StoreStats",
    "StoredConversation",
    "StoredMessage",
    "TranscriptStore",
    "current_revision",
    "ensure_migrated",
    "hash_token",
    "head_revision",
    "open_store",
    "upgrade",
]
