"""API clients, their role and their signing keys.

`Client` invariants:
- one role for life (`Role`); a scope narrows what it may touch: the device id a
  ``device`` posts for, the places (lots, agencies) a ``terminal`` serves;
- every key has a unique id ``<client_id>.k<n>`` (so a signature's ``keyid`` names its
  client), one algorithm, and its verification material: the Ed25519 public key
  (the server never holds the private key) or the HMAC secret, sealed by the caller;
- rotating adds a new key and gives the old one an end of validity; a revoked client
  has no valid key at all. Nothing is ever deleted: an auditor sees who was allowed
  what, and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.model.errors import DomainError, InvalidTransition, InvalidValue

CLIENT_NAMESPACE = uuid5(NAMESPACE_URL, "https://citysettle.example/client")
NAME_MAX = 100
SCOPE_MAX = 100


class Role(StrEnum):
    ADMIN = "admin"
    TERMINAL = "terminal"
    APP = "app"
    DEVICE = "device"
    BANK = "bank"
    FINANCE = "finance"
    AUDITOR = "auditor"


class KeyAlgorithm(StrEnum):
    ED25519 = "ed25519"
    HMAC_SHA256 = "hmac-sha256"


class KeyRefused(DomainError):
    """A signature's key is unknown, retired or revoked; ``check`` names which."""

    code = "key-refused"
    status = 401

    def __init__(self, check: str, detail: str) -> None:
        super().__init__(detail)
        self.check = check


class OutOfScope(DomainError):
    """The client's scope does not include the place (agency, lot) the request is about."""

    code = "out-of-scope"
    status = 403


def within_scope(scope: tuple[str, ...], place: str) -> None:
    """An empty scope is not narrowed; otherwise ``place`` must be one of it."""
    if scope and place not in scope:
        raise OutOfScope(f"{place} is outside this client's scope")


def client_stream_id(client_id: str) -> UUID:
    return uuid5(CLIENT_NAMESPACE, client_id)


def client_of_key(key_id: str) -> str:
    """The client a key id belongs to (``<client_id>.k<n>``); empty when malformed."""
    client_id, dot, number = key_id.rpartition(".")
    return client_id if dot and number[:1] == "k" and number[1:].isdigit() else ""


@dataclass(frozen=True, slots=True)
class ClientKey:
    key_id: str
    algorithm: KeyAlgorithm
    material: str  # base64 of the raw Ed25519 public key, or the sealed HMAC secret
    added_at: datetime
    valid_until: datetime | None = None

    def valid_at(self, at: datetime) -> bool:
        return self.valid_until is None or at < self.valid_until


class Client(Aggregate):
    """A caller of the HTTP API (see module docstring)."""

    class Registered(Aggregate.Created):
        client_id: str
        name: str
        role: str
        scope: list[str]

    class KeyAdded(Aggregate.Event):
        key_id: str
        algorithm: str
        material: str

        def apply(self, aggregate: Client) -> None:
            key = ClientKey(self.key_id, KeyAlgorithm(self.algorithm), self.material, self.timestamp)
            aggregate.keys[self.key_id] = key

    class KeyRotated(Aggregate.Event):
        """A new key replaces ``old_key_id``, which stays valid until ``old_valid_until``."""

        key_id: str
        algorithm: str
        material: str
        old_key_id: str
        old_valid_until: datetime

        def apply(self, aggregate: Client) -> None:
            old = aggregate.keys[self.old_key_id]
            aggregate.keys[self.old_key_id] = ClientKey(
                old.key_id, old.algorithm, old.material, old.added_at, self.old_valid_until
            )
            aggregate.keys[self.key_id] = ClientKey(
                self.key_id, KeyAlgorithm(self.algorithm), self.material, self.timestamp
            )

    class Revoked(Aggregate.Event):
        reason: str

        def apply(self, aggregate: Client) -> None:
            aggregate.revoked = True

    def __init__(self, client_id: str, name: str, role: str, scope: list[str]) -> None:
        self.client_id = client_id
        self.name = name
        self.role = Role(role)
        self.scope = tuple(scope)
        self.keys: dict[str, ClientKey] = {}
        self.revoked = False

    @classmethod
    def register(
        cls,
        *,
        client_id: str,
        name: str,
        role: Role,
        scope: tuple[str, ...],
        algorithm: KeyAlgorithm,
        material: str,
        at: datetime,
    ) -> Client:
        if not client_id or len(client_id) > 64 or "." in client_id:
            raise InvalidValue("client_id must be 1-64 characters without '.'")
        if not name.strip() or len(name) > NAME_MAX:
            raise InvalidValue(f"a client's name must be 1-{NAME_MAX} characters")
        if len(scope) > SCOPE_MAX or any(not s or len(s) > 64 for s in scope):
            raise InvalidValue(f"a scope lists at most {SCOPE_MAX} ids of 1-64 characters")
        if role is Role.DEVICE and len(scope) != 1:
            raise InvalidValue("a device client's scope is exactly its device id")
        client = cls._create(
            cls.Registered,
            id=client_stream_id(client_id),
            timestamp=at,
            client_id=client_id,
            name=name.strip(),
            role=role.value,
            scope=list(scope),
        )
        client.trigger_event(
            cls.KeyAdded, timestamp=at, key_id=client.next_key_id(), algorithm=algorithm.value, material=material
        )
        return client

    def next_key_id(self) -> str:
        return f"{self.client_id}.k{len(self.keys) + 1}"

    def rotate(self, *, algorithm: KeyAlgorithm, material: str, old_valid_until: datetime, at: datetime) -> str:
        """Add a new key; the newest key before it stays valid until ``old_valid_until``."""
        self._require_active()
        old = self.current_key(at)
        if old_valid_until < at:
            raise InvalidValue("the old key cannot stop being valid before the rotation")
        key_id = self.next_key_id()
        self.trigger_event(
            self.KeyRotated,
            timestamp=at,
            key_id=key_id,
            algorithm=algorithm.value,
            material=material,
            old_key_id=old.key_id,
            old_valid_until=old_valid_until,
        )
        return key_id

    def revoke(self, reason: str, at: datetime) -> None:
        self._require_active()
        self.trigger_event(self.Revoked, timestamp=at, reason=reason)

    def current_key(self, at: datetime) -> ClientKey:
        """The newest key (the one a rotation retires)."""
        newest = list(self.keys.values())[-1]  # keys are added in order, never removed
        if not newest.valid_at(at):
            raise InvalidTransition(f"client {self.client_id} has no valid key")
        return newest

    def key_for(self, key_id: str, at: datetime) -> ClientKey:
        """The key that may verify a signature made at ``at``, or `KeyRefused` saying why."""
        key = self.keys.get(key_id)
        if key is None:
            raise KeyRefused("keyid", f"unknown key {key_id!r}")
        if self.revoked:
            raise KeyRefused("key-revoked", f"client {self.client_id} is revoked")
        if not key.valid_at(at):
            raise KeyRefused("key-expired", f"key {key_id} was rotated out at {key.valid_until}")
        return key

    def view(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "name": self.name,
            "role": self.role.value,
            "scope": list(self.scope),
            "revoked": self.revoked,
            "keys": [
                {
                    "key_id": k.key_id,
                    "algorithm": k.algorithm.value,
                    "added_at": k.added_at.isoformat(),
                    "valid_until": k.valid_until.isoformat() if k.valid_until else None,
                }
                for k in self.keys.values()
            ],
        }

    def _require_active(self) -> None:
        if self.revoked:
            raise InvalidTransition(f"client {self.client_id} is revoked")
