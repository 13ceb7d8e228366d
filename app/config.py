"""Settings: one typed class, read from `HUASHU_*` environment variables when the app is built.

No import-time side effects: `Settings()` is constructed in `create_app()` / the CLI, and tests pass their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONVERSATION_CACHE = 10_000  # live conversations a worker keeps in memory


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUASHU_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///huashu.db",
        description="SQLAlchemy URL; SQLite file (embedded default) or postgresql+psycopg://…",
    )
    pack: Path | None = Field(
        default=None, description="a pack folder: shorthand for PACK/flows and PACK/scripts_zh (docs/packs.md)"
    )
    flows_dir: Path = Field(default=PROJECT_ROOT / "flows", description="folder of flow YAML files")
    scripts_dir: Path = Field(default=PROJECT_ROOT / "scripts_zh", description="folder of phrasings and facts")
    default_flow: str = "default"
    agent_tokens: str = Field(default="", description="agent credentials: name:token,name2:token2")
    redis_url: str | None = Field(default=None, description="redis://… to fan events out across workers")
    redis_prefix: str = Field(
        default="huashu", min_length=1, description="Redis channel/key prefix; services sharing a Redis use different ones"
    )
    dev_token: str = Field(
        default="",
        description="with no agent tokens, `huashu serve` gives agent `dev` a development token: `1` generates one "
        "(kept in HUASHU_DEV_TOKEN_FILE when set, so it survives restarts), any other value is the token itself",
    )
    dev_token_file: Path | None = Field(default=None, description="where a generated development token is kept")
    max_frame_bytes: int = Field(default=16 * 1024, ge=256, description="larger WebSocket frames close with 1009")
    log_format: Literal["text", "json"] = Field(
        default="text", description="`json`: one JSON object a log line, with the conversation id (never message text)"
    )
    gc_thresholds: tuple[int, int, int] | None = Field(
        default=None,
        description="the serving process's collector thresholds as JSON, e.g. [700,10,10] (default: app/heap.py's)",
    )
    max_text_chars: int = Field(default=2000, ge=1)
    rate_limit_per_minute: int = Field(default=120, ge=1, description="customer messages per connection")
    conversation_rate_per_minute: int = Field(
        default=60, ge=1, description="customer messages per conversation, across reconnects (per worker)"
    )
    new_conversations_per_minute: int = Field(
        default=30, ge=1, description="conversations one client address may start (per worker)"
    )
    ticket_ttl_seconds: int = Field(default=60, ge=1)
    conversation_cache: int = Field(
        default=DEFAULT_CONVERSATION_CACHE,
        ge=1,
        description="live conversations a worker keeps in memory (~2.4 KB each); the least recently used "
        "beyond that are rebuilt from the store when they speak again",
    )
    action_timeout_seconds: float = Field(default=3.0, gt=0)
    action_retries: int = Field(default=2, ge=0)
    actions: str = Field(
        default="lookup_order=demo:lookup_order,check_warranty=demo:check_warranty",
        description="action=handler pairs; handler is demo:<name>, a python entry point module:function, "
        "or an http(s) webhook URL",
    )

    @model_validator(mode="before")
    @classmethod
    def _pack_folders(cls, data: Any) -> Any:
        """`HUASHU_PACK=DIR` stands for DIR/flows and DIR/scripts_zh; an explicit folder setting wins."""
        if isinstance(data, dict) and data.get("pack"):
            pack = Path(data["pack"])
            if not pack.is_dir():
                raise ValueError(f"HUASHU_PACK: pack folder {pack} does not exist")
            data = {"flows_dir": pack / "flows", "scripts_dir": pack / "scripts_zh", **data}
        return data

    @field_validator("dev_token", mode="before")
    @classmethod
    def _dev_token_switch(cls, value: Any) -> str:
        if isinstance(value, bool):
            return "1" if value else ""
        return str(value).strip()

    def fixed_dev_token(self) -> str | None:
        """The development token asked for: None when off, "" when one is to be generated (or read from the file)."""
        value = self.dev_token
        if value.lower() in ("", "0", "false", "no", "off"):
            return None
        return "" if value.lower() in ("1", "true", "yes", "on") else value

    @field_validator("flows_dir", "scripts_dir")
    @classmethod
    def _must_exist(cls, value: Path) -> Path:
        if not value.is_dir():
            raise ValueError(f"folder {value} does not exist")
        return value

    def agent_credentials(self) -> dict[str, str]:
        """token → agent name, from `HUASHU_AGENT_TOKENS`."""
        credentials: dict[str, str] = {}
        pairs = [p.strip() for p in self.agent_tokens.split(",") if p.strip()]
        for number, pair in enumerate(pairs, start=1):
            name, sep, token = pair.partition(":")
            if not sep or not name or not token:
                # Never echo the entry: without its `name:` it is the token itself, and this goes to logs.
                raise ValueError(f"HUASHU_AGENT_TOKENS entry {number} of {len(pairs)} is not name:token")
            credentials[token] = name
        return credentials
