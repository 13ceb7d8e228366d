"""The one root of every error Huashu raises on purpose.

    HuashuError
    ├── ContentError            flows/ or scripts_zh/ are broken (app.content.errors has one class per defect)
    ├── EngineError
    │   ├── InvalidTransition   the script has no way to handle this event in this state
    │   ├── StepLimitExceeded   a flow loops through automatic transitions
    │   └── UnknownState        a `goto` or restore names a state the flow does not have
    ├── ConversationNotFound    an id that no store knows
    ├── StorageError            the transcript store failed or is not migrated
    │   ├── NotMigrated         the database schema is not at the revision this code expects
    │   ├── ConversationExists  create_conversation with an id that is already stored
    │   └── SeqConflict         a conditional append found the conversation moved on (another worker wrote)
    └── TranscriptError         an imported transcript line is malformed

Edges (CLI, REST, WebSocket) turn these into exit codes, HTTP statuses and error frames;
nothing inside the engine knows about those.
"""

from __future__ import annotations


class HuashuError(Exception):
    """Root of Huashu's own errors. `code` is the stable machine-readable name."""

    code = "error"


class ContentError(HuashuError):
    code = "invalid_content"


class EngineError(HuashuError):
    code = "engine_error"


class InvalidTransition(EngineError):
    code = "invalid_transition"


class StepLimitExceeded(EngineError):
    code = "step_limit_exceeded"


class UnknownState(EngineError):
    code = "unknown_state"


class ConversationNotFound(HuashuError):
    code = "not_found"


class RecordNotFound(HuashuError):
    """No commitment or complaint record with that id."""


class RecordConflict(HuashuError):
    """The record changed since it was read; read it again and redo the change."""


class StorageError(HuashuError):
    code = "storage_error"


class NotMigrated(StorageError):
    code = "not_migrated"


class ConversationExists(StorageError):
    code = "conversation_exists"


class SeqConflict(StorageError):
    """`append(..., expected_last_seq=n)` found the conversation's last seq is not `n`; nothing was written."""

    code = "seq_conflict"

    def __init__(self, conversation_id: str, expected: int, actual: int) -> None:
        super().__init__(f"conversation {conversation_id!r} is at seq {actual}, not {expected}: another writer appended")
        self.conversation_id = conversation_id
        self.expected = expected
        self.actual = actual


class TranscriptError(HuashuError):
    code = "bad_transcript"
