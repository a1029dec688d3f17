"""Who is calling: the client behind a signature's key id, and what its role may do.

`ClientDirectory` reads clients from the event store (their own streams), keeping each
for ``cache_ttl_s``: a client registered by another process (``citysettle clients add``)
is found on its first request, since a miss always reads the store; a key unknown to
the cached copy (rotated elsewhere) reloads it once; a revocation takes effect within
the cache's lifetime (one second by default). When a cached copy expires, the requests
that find it so at once share one read of the stream (not one each). The key objects made
from a key's stored material (an Ed25519 public key, an opened HMAC secret) are kept by key
id and material; whether a key may be used — revoked, rotated out, expired — is asked of
the client as loaded, on every request.
"""

from __future__ import annotations

import asyncio
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
        self._loading: dict[str, asyncio.Future[Client | None]] = {}  # reads of a client under way
        self._keys: dict[tuple[str, str], VerificationKey] = {}

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
        if fresh or self._ttl_s <= 0:  # no cache: a read of its own, begun after the request came
            return await self._load(client_id, now)
        loading = self._loading.get(client_id)
        if loading is None:  # else: begun since this copy expired, so as fresh as the cache promises
            loading = asyncio.ensure_future(self._load(client_id, now))
            self._loading[client_id] = loading
            loading.add_done_callback(lambda done: self._loaded(client_id, done))
        return await asyncio.shield(loading)  # a waiter that gives up does not stop the others' read

    async def _load(self, client_id: str, now: float) -> Client | None:
        client = await load_client(self._store, client_id)
        if client is not None:
            if len(self._cache) >= CACHE_MAX:
                self._cache.clear()  # bounded; a cold cache only costs one read per client
            self._cache[client_id] = (now, client)
        return client

    def _loaded(self, client_id: str, done: asyncio.Future[Client | None]) -> None:
        if self._loading.get(client_id) is done:
            del self._loading[client_id]
        if not done.cancelled():
            done.exception()  # its waiters raise it; none left is no "never retrieved" warning

    def _verification_key(self, key: ClientKey) -> VerificationKey:
        made = self._keys.get((key.key_id, key.material))
        if made is None:
            made = self._make_key(key)
            if len(self._keys) >= CACHE_MAX:
                self._keys.clear()
            self._keys[(key.key_id, key.material)] = made
        return made

    def _make_key(self, key: ClientKey) -> VerificationKey:
        if key.algorithm is KeyAlgorithm.ED25519:
            raw = base64.b64decode(key.material)
            return VerificationKey(key.key_id, key.algorithm, Ed25519PublicKey.from_public_bytes(raw))
        try:
            secret = self._sealer.open(key.material)
        except SecretUnreadable as exc:
            raise SignatureRejected("keyid", f"key {key.key_id} cannot be used: {exc}") from exc
        return VerificationKey(key.key_id, key.algorithm, secret)
