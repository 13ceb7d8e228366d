"""FastAPI dependencies: the process's services, and who is calling. Tests override these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from app.api.auth import AgentAuth
from app.api.hub import Hub
from app.api.metrics import Metrics
from app.api.service import ConversationService
from app.api.socket import KeyedRateLimits
from app.config import Settings
from app.engine.step import Engine
from app.storage.store import TranscriptStore


@dataclass(frozen=True)
class Services:
    """Everything the endpoints use, built once per process by the app's lifespan."""

    settings: Settings
    store: TranscriptStore
    hub: Hub
    conversations: ConversationService
    auth: AgentAuth
    message_limits: KeyedRateLimits  # customer messages per conversation (HUASHU_CONVERSATION_RATE_PER_MINUTE)
    start_limits: KeyedRateLimits  # new conversations per client address (HUASHU_NEW_CONVERSATIONS_PER_MINUTE)
    metrics: Metrics

    @property
    def engine(self) -> Engine:
        """The engine of the pack being served; a reload swaps it (app/api/reload.py)."""
        return self.conversations.engine


def get_services(connection: HTTPConnection) -> Services:
    services: Services = connection.app.state.huashu
    return services


ServicesDep = Annotated[Services, Depends(get_services)]

bearer_scheme = HTTPBearer(
    auto_error=False, description="an agent token from HUASHU_AGENT_TOKENS, or a customer token"
)
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)]


def bearer(credentials: BearerDep) -> str | None:
    return credentials.credentials if credentials is not None else None


def require_agent(services: ServicesDep, credentials: BearerDep) -> str:
    """The calling agent's name; 401 otherwise."""
    token = bearer(credentials)
    return services.auth.require_agent(f"Bearer {token}" if token else None)


AgentDep = Annotated[str, Depends(require_agent)]
