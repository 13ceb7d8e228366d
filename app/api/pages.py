"""The demo pages: the customer widget at `/` and the agent sidebar at `/agent` (static HTML)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

WEB_DIR = Path(__file__).resolve().parent.parent / "web"

router = APIRouter(include_in_schema=False)


@router.get("/")
async def widget() -> FileResponse:
    return FileResponse(WEB_DIR / "widget.html", media_type="text/html; charset=utf-8")


@router.get("/agent")
async def sidebar() -> FileResponse:
    return FileResponse(WEB_DIR / "agent.html", media_type="text/html; charset=utf-8")
