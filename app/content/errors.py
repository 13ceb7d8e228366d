"""One exception class per content defect, each saying what, where and how to fix.

All derive from `app.errors.ContentError`. `huashu check` collects them instead of stopping at the first.
"""

from __future__ import annotations

from app.errors import ContentError


class ContentDefect(ContentError):
    """A defect found while loading flows/ or scripts_zh/.

    Attributes name the place: `file`, `line` (1-based, when known), `flow`, `state`; `hint` says how to fix it.
    """

    kind = "defect"

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        flow: str | None = None,
        state: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.flow = flow
        self.state = state
        self.hint = hint
        super().__init__(self.describe())

    def describe(self) -> str:
        where = self.file or "<content>"
        if self.line is not None:
            where += f":{self.line}"
        context = ", ".join(
            f"{label} {value!r}" for label, value in (("flow", self.flow), ("state", self.state)) if value
        )
        text = f"{where}: {self.kind}: {self.message}"
        if context:
            text += f" ({context})"
        if self.hint:
            text += f" — {self.hint}"
        return text

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "flow": self.flow,
            "state": self.state,
            "hint": self.hint,
        }


class YamlSyntaxError(ContentDefect):
    kind = "yaml-syntax"


class SchemaError(ContentDefect):
    """A field is missing, has the wrong type or an unknown value."""

    kind = "schema"


class DuplicateId(ContentDefect):
    kind = "duplicate-id"


class UnknownStateError(ContentDefect):
    kind = "unknown-state"


class UnknownPhraseId(ContentDefect):
    kind = "unknown-phrase"


class UnreachableState(ContentDefect):
    kind = "unreachable-state"


class DeadEndState(ContentDefect):
    """A state from which no final state can be reached."""

    kind = "dead-end-state"


class UnknownPlaceholder(ContentDefect):
    kind = "unknown-placeholder"


class MissingPhrasing(ContentDefect):
    """A stage the flow speaks in has no phrasing for one of the flow's channels."""

    kind = "missing-phrasing"


class ContentErrors(ContentError):
    """Several defects at once; `defects` lists them in file order."""

    def __init__(self, defects: list[ContentDefect]) -> None:
        self.defects = defects
        super().__init__("\n".join(d.describe() for d in defects))


class IntentWarning(ContentDefect):
    """Not a defect that stops loading: an intent the model will learn poorly (`huashu check` warns)."""

    kind = "warning"
