"""Fulfilment actions: work a flow state asks for that the pure engine cannot do (look-ups, checks).

The engine emits `ActionRequested`; the edge runs the configured handler (`ActionRunner`) and feeds back
`ActionCompleted` (slots to fill) or `ActionFailed` (the script then promises a reply time).
"""

from __future__ import annotations

from app.actions.runner import ActionError, ActionHandler, ActionRunner

__all__ = ["ActionError", "ActionHandler", "ActionRunner"]
