"""Who is calling: the client behind a signature's key id, and what its role may do.

`ClientDirectory` reads clients from the event store (their own streams), keeping each
for ``cache_ttl_s``: a client registered by another process (``citysettle clients add``)
is found on its first request, since a miss always reads the store; a key unknown to
the cached copy (rotated elsewhere) reloads it once; a revocation takes effect within
the cache's lifetime (one second by default).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from adapters.http.signatures import SignatureRejected, VerificationKey
from adapters.secrets import SecretSealer, SecretUnreadable
from domain.model.clients import Client, ClientKey, KeyAlgorithm, KeyRefused, Role, client_of_key
from domain.ports import EventStore
from domain.services.clients import load_client

CACHE_TTL_S = 1.0
CACHE_MAX = 10_000


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated client for the length of one request."""

    client_id: str
    role: Role
    scope: tuple[str, ...]
    key_id: str


class ClientDirectory:
    def __init__(
        self,
        store: EventStore,
        sealer: SecretSealer,
        *,
        cache_ttl_s: float = CACHE_TTL_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._sealer = sealer
        self._ttl_s = cache_ttl_s
        self._monotonic = monotonic
        self._cache: dict[str, tuple[float, Client]] = {}

    async def resolve(self, key_id: str, at: datetime) -> tuple[Caller, VerificationKey]:
        """The caller and its verification key, or `SignatureRejected` naming the check."""
        client_id = client_of_key(key_id)
        if not client_id:
            raise SignatureRejected("keyid", f"unknown key {key_id!r}")
        client = await self._client(client_id, fresh=False)
        if client is not None and key_id not in client.keys:
            client = await self._client(client_id, fresh=True)
        if client is None:
            raise SignatureRejected("keyid", f"unknown key {key_id!r}")
        try:
            key = client.key_for(key_id, at)
        except KeyRefused as exc:
            raise SignatureRejected(exc.check, str(exc)) from exc
        caller = Caller(client.client_id, client.role, client.scope, key_id)
        return caller, self._verification_key(key)

    async def _client(self, client_id: str, *, fresh: bool) -> Client | None:
        now = self._monotonic()
        cached = self._cache.get(client_id)
        if cached is not None and not fresh and now - cached[0] < self._ttl_s:
            return cached[1]
        client = await load_client(self._store, client_id)
        if client is not None:
            if len(self._cache) >= CACHE_MAX:
                self._cache.clear()  # bounded; a cold cache only costs one read per client
            self._cache[client_id] = (now, client)
        return client

    def _verification_key(self, key: ClientKey) -> VerificationKey:
        if key.algorithm is KeyAlgorithm.ED25519:
            raw = base64.b64decode(key.material)
            return VerificationKey(key.key_id, key.algorithm, Ed25519PublicKey.from_public_bytes(raw))
        try:
            secret = self._sealer.open(key.material)
        except SecretUnreadable as exc:
            raise SignatureRejected("keyid", f"key {key.key_id} cannot be used: {exc}") from exc
        return VerificationKey(key.key_id, key.algorithm, secret)
