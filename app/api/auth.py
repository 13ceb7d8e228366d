"""Who may do what: agent tokens, single-use agent tickets, customer conversation tokens.

* Agents authenticate with `Authorization: Bearer <token>`, tokens from `HUASHU_AGENT_TOKENS`
  (`name:token,…`). No tokens configured: every agent request is refused.
* Browsers cannot set headers on a WebSocket, so an agent first gets a ticket from
  `POST /api/agent/tickets` and connects with `?ticket=`. A ticket is
  `base64url(payload).base64url(hmac)`: the payload names the agent, an optional conversation,
  the expiry and a random nonce, and is signed with that agent's own token. Any worker can verify
  it without shared state (every worker has the same tokens), and rotating a token voids its
  tickets. Single use needs shared state: the nonce is claimed in Redis (`SET NX EX`) when
  `HUASHU_REDIS_URL` is set, which is what several workers require anyway, else in this
  process's memory (one worker).
* A customer's token is random (`secrets.token_urlsafe`); only its sha256 is stored, and it
  opens its own conversation only.

Every secret comparison is constant-time (`hmac.compare_digest`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from typing import Any, Protocol

from app.api.errors import Unauthorized
from app.storage.models import hash_token

TICKET_BYTES = 16

log = logging.getLogger(__name__)


def new_customer_token() -> tuple[str, str]:
    """A fresh customer token and the hash to store."""
    token = secrets.token_urlsafe(24)
    return token, hash_token(token)


def customer_token_matches(token: str, token_hash: str) -> bool:
    return hmac.compare_digest(hash_token(token), token_hash)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header value."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


class NonceRegistry(Protocol):
    async def claim(self, nonce: str, ttl_seconds: int) -> bool:
        """True the first time a nonce is claimed (within its ttl), False afterwards."""
        ...


class MemoryNonces:
    """Used ticket nonces of this process (enough for a single worker)."""

    def __init__(self) -> None:
        self._used: dict[str, float] = {}

    async def claim(self, nonce: str, ttl_seconds: int) -> bool:
        now = time.monotonic()
        if len(self._used) > 1024:
            self._used = {n: until for n, until in self._used.items() if until > now}
        if self._used.get(nonce, 0.0) > now:
            return False
        self._used[nonce] = now + ttl_seconds + 1
        return True


class RedisNonces:
    """Used ticket nonces shared by every worker through Redis."""

    def __init__(self, client: Any, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._local = MemoryNonces()

    async def claim(self, nonce: str, ttl_seconds: int) -> bool:
        try:
            claimed = bool(
                await self._client.set(f"{self._prefix}:ticket:{nonce}", b"1", nx=True, ex=ttl_seconds + 1)
            )
        except Exception as exc:  # noqa: BLE001 - Redis down: the sidebar must still open conversations
            # Degrade to this worker's memory: a ticket stays single-use here (it expires in minutes);
            # only a replay on another worker during the outage could pass.
            log.warning("ticket check on Redis failed (%s); using this worker's memory until it is back", exc)
            return await self._local.claim(nonce, ttl_seconds)
        await self._local.claim(nonce, ttl_seconds)  # remembered here too, for an outage to come
        return claimed


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class AgentAuth:
    """Checks agent tokens and issues/redeems tickets."""

    def __init__(self, credentials: dict[str, str], *, ticket_ttl: int, nonces: NonceRegistry,
                 ticket_salt: bytes = b"") -> None:
        # credentials: token → agent name (Settings.agent_credentials()).
        # ticket_salt: mixed into the ticket key. Where used tickets are remembered only in this process
        # (no Redis), a random salt per start makes tickets die with the process, so a restart cannot
        # make a used ticket valid again.
        self._by_token = [(token.encode(), name) for token, name in credentials.items()]
        self._token_of = {name: token.encode() + ticket_salt for token, name in credentials.items()}
        self.ticket_ttl = ticket_ttl
        self._nonces = nonces

    @property
    def open(self) -> bool:
        return bool(self._by_token)

    def agent_for(self, token: str | None) -> str | None:
        """The agent holding `token`; every configured token is compared, in constant time."""
        if not token:
            return None
        candidate = token.encode()
        found = None
        for known, name in self._by_token:
            if hmac.compare_digest(candidate, known):
                found = name
        return found

    def require_agent(self, authorization: str | None) -> str:
        agent = self.agent_for(bearer_token(authorization))
        if agent is None:
            raise Unauthorized(
                "agent access is closed: no HUASHU_AGENT_TOKENS configured"
                if not self.open
                else "send Authorization: Bearer <agent token>"
            )
        return agent

    def issue_ticket(self, agent: str, conversation_id: str | None = None) -> tuple[str, int]:
        """A signed single-use ticket for `agent` and its expiry (unix seconds)."""
        expires = int(time.time()) + self.ticket_ttl
        payload = json.dumps(
            {"a": agent, "c": conversation_id, "e": expires, "n": _b64(secrets.token_bytes(TICKET_BYTES))},
            separators=(",", ":"),
        ).encode()
        return f"{_b64(payload)}.{_b64(self._sign(agent, payload))}", expires

    def _sign(self, agent: str, payload: bytes) -> bytes:
        return hmac.new(self._token_of[agent], payload, hashlib.sha256).digest()

    async def redeem_ticket(self, ticket: str, conversation_id: str) -> str:
        """The agent a valid, unexpired, unused ticket was issued to; it cannot be used again."""
        try:
            encoded_payload, _, encoded_mac = ticket.partition(".")
            payload = _unb64(encoded_payload)
            mac = _unb64(encoded_mac)
            data = json.loads(payload)
            agent, bound, expires, nonce = data["a"], data["c"], int(data["e"]), str(data["n"])
        except (ValueError, KeyError, TypeError):
            raise Unauthorized("malformed ticket") from None
        if not isinstance(agent, str) or agent not in self._token_of:
            raise Unauthorized("invalid ticket")
        if not hmac.compare_digest(mac, self._sign(agent, payload)):
            raise Unauthorized("invalid ticket")
        if expires < time.time():
            raise Unauthorized("ticket expired; get a new one from POST /api/agent/tickets")
        if bound is not None and bound != conversation_id:
            raise Unauthorized("ticket was issued for another conversation")
        if not await self._nonces.claim(nonce, self.ticket_ttl):
            raise Unauthorized("ticket already used; tickets are single-use")
        return agent
