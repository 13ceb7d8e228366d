"""`huashu serve`: check the configuration and the database, then run the app under uvicorn.

Start-up policy: broken flows or phrasings are listed and refuse the start; the embedded SQLite default is migrated automatically (WAL mode); a
PostgreSQL database must already be at the current schema (`huashu db upgrade`), or the
server refuses to start with a message saying so (exit code 2, no traceback). Several workers
need Redis (HUASHU_REDIS_URL): without it a customer and an agent on different workers would
not see each other.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Final, TextIO

from app.config import Settings

EXIT_CONFIG: Final = 2


def _generated_dev_token(keep: Path | None) -> str:
    """A new random token, or the one kept in `keep` (written there the first time), so a restart keeps it."""
    if keep is not None and keep.is_file():
        kept = keep.read_text(encoding="utf-8").strip()
        if kept:
            return kept
    token = secrets.token_urlsafe(18)
    if keep is not None:
        keep.parent.mkdir(parents=True, exist_ok=True)
        keep.write_text(token + "\n", encoding="utf-8")
        keep.chmod(0o600)
    return token


def _fail(message: str, err: TextIO) -> int:
    print(f"huashu serve: {message}", file=err)
    return EXIT_CONFIG


def preflight(settings: Settings, *, workers: int, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Everything that must hold before uvicorn starts; 0 or the exit code, with the reason printed."""
    from app.content.loader import collect_content
    from app.errors import StorageError
    from app.storage.database import is_sqlite
    from app.storage.migrate import MEMORY_URLS, ensure_migrated, upgrade

    try:
        credentials = settings.agent_credentials()
    except ValueError as exc:
        return _fail(f"configuration error: {exc}", err)
    _, defects = collect_content(settings.flows_dir, settings.scripts_dir)
    if defects:
        for defect in defects:
            print(defect.describe(), file=err)
        return _fail(f"{len(defects)} content defect(s) in flows/ or scripts_zh/ (see `huashu check`)", err)
    if not credentials:
        asked = settings.fixed_dev_token()
        if asked is not None:
            token = asked or _generated_dev_token(settings.dev_token_file)
            # Workers are started by uvicorn from this environment, so they see the same token.
            os.environ["HUASHU_AGENT_TOKENS"] = f"dev:{token}"
            print(f"development agent token (do not use in production; paste it into /agent): {token}", file=out)
            print(f"  agents: Authorization: Bearer {token}  (HUASHU_AGENT_TOKENS=dev:{token})", file=out)
        else:
            print(
                "notice: no HUASHU_AGENT_TOKENS configured: agent access (/ws/assist, /api/conversations, "
                "tickets) is closed. Set HUASHU_AGENT_TOKENS=name:token,… "
                "(or HUASHU_DEV_TOKEN=1 for a development token).",
                file=out,
            )
    if workers > 1 and not settings.redis_url:
        return _fail(
            f"--workers {workers} needs HUASHU_REDIS_URL: workers share conversations through the Redis bus",
            err,
        )
    if workers > 1 and settings.database_url in MEMORY_URLS:
        return _fail("the in-memory store cannot be shared by several workers", err)
    try:
        if settings.database_url in MEMORY_URLS:
            pass
        elif is_sqlite(settings.database_url):
            upgrade(settings.database_url)
        else:
            ensure_migrated(settings.database_url)
    except StorageError as exc:
        return _fail(str(exc), err)
    if settings.redis_url:
        import redis

        try:
            redis.Redis.from_url(settings.redis_url, socket_connect_timeout=3).ping()
        except redis.RedisError as exc:
            return _fail(f"cannot reach Redis at HUASHU_REDIS_URL: {exc}", err)
    return 0


TRANSPORT_HEADROOM = 4  # uvicorn's frame cap, in multiples of the app's own limit


def run_server(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> int:
    """Run until stopped; returns the process exit code."""
    import uvicorn

    from app.api.logs import json_log_config

    try:
        settings = Settings()
    except ValueError as exc:
        return _fail(f"configuration error: {exc}", sys.stderr)
    code = preflight(settings, workers=workers)
    if code:
        return code
    level = os.environ.get("HUASHU_LOG_LEVEL", "info").lower()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # The app checks HUASHU_MAX_FRAME_BYTES itself and says `too_large` before closing with 1009;
        # uvicorn only cuts what is far bigger (it would close with 1009 before the app could say why).
        ws_max_size=settings.max_frame_bytes * TRANSPORT_HEADROOM,
        # Chat frames are a few hundred bytes: deflate would cost CPU on every frame and a zlib
        # context (tens of KB) per connection, for little saving.
        ws_per_message_deflate=False,
        log_level=level,
        log_config=json_log_config(level) if settings.log_format == "json" else uvicorn.config.LOGGING_CONFIG,
        timeout_graceful_shutdown=5,
    )
    return 0
