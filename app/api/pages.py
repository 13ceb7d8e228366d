"""The pages: the customer widget at `/` (and `/widget.js` to embed it), the agent workspace at `/agent`,
the QA dashboard at `/qa` (static HTML), and their visible texts at `/api/ui/{page}` (docs/pages.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Response
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from app.api.deps import ServicesDep
from app.api.errors import ApiError
from app.content.errors import ContentErrors
from app.content.ui import load_ui_texts

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
HTML = "text/html; charset=utf-8"

router = APIRouter(include_in_schema=False)
texts_router = APIRouter(tags=["pages"])


@router.get("/")
async def widget() -> FileResponse:
    return FileResponse(WEB_DIR / "widget.html", media_type=HTML)


@router.get("/widget.js")
async def widget_embed() -> FileResponse:
    """One `<script src=".../widget.js">` puts a launcher bubble on any page (docs/pages.md)."""
    return FileResponse(WEB_DIR / "embed.js", media_type="text/javascript; charset=utf-8")


@router.get("/agent")
async def sidebar() -> FileResponse:
    return FileResponse(WEB_DIR / "agent.html", media_type=HTML)


@router.get("/qa")
async def qa_dashboard() -> FileResponse:
    return FileResponse(WEB_DIR / "qa.html", media_type=HTML)


@router.get("/favicon.ico")
async def favicon() -> FileResponse:
    return FileResponse(WEB_DIR / "favicon.svg", media_type="image/svg+xml")


def _texts(scripts_dir: Path, page: str) -> dict[str, str]:
    texts = load_ui_texts(scripts_dir, page)
    if page == "qa":
        # The rules' names and explanations live with the rules (the pack's qa_rules.yaml: `name`, `explain`).
        from app.qa.rules import load_rules, rules_file

        for rule in load_rules(rules_file(scripts_dir)).rules.values():
            if rule.name:
                texts[f"rule.{rule.id}.name"] = rule.name
            if rule.explain:
                texts[f"rule.{rule.id}.explain"] = rule.explain
    return texts


@texts_router.get("/api/ui/{page}")
async def ui_texts(page: Literal["widget", "agent", "qa"], services: ServicesDep, response: Response) -> dict[str, str]:
    """A page's visible texts, key → text, from the served pack's `scripts_zh/ui/` (or the default pack's).
    Public, and readable from any origin: the launcher (`/widget.js`) runs on the embedding site's pages."""
    try:
        texts = await run_in_threadpool(_texts, services.settings.scripts_dir, page)
    except ContentErrors as exc:
        raise ApiError("unavailable", "; ".join(d.describe() for d in exc.defects)) from None
    response.headers["Access-Control-Allow-Origin"] = "*"
    return texts
