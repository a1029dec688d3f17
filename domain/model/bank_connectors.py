"""Bank connectors: who may post bank notifications, in which provider's format, with what secret.

`BankConnector` invariants:
- its id is ``uuid5`` of its name, so a name is registered at most once and
  ``POST /v1/banks/{name}/notifications`` finds its connector without an index;
- a name is 1-40 lower-case letters, digits or dashes (it is a URL path segment);
- the secret is held only sealed (`SealedSecret`, opaque text made by adapters/secrets.py
  with the store's cipher key when one is configured): the model never sees it in the
  clear, keeps no keys or cryptography, and no view or repr of a connector shows it;
- a rotation (`SecretRotated`) replaces the secret; the one before stays accepted until
  ``previous_valid_until`` (at most `ROTATION_GRACE_MAX` later, and possibly at once), so
  that notices the provider signed before the switch, and its retries of them, are still
  booked. After it, and for any secret older than that one, a notice is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.model.errors import InvalidTransition, InvalidValue

CONNECTOR_NAMESPACE = uuid5(NAMESPACE_URL, "https://citysettle.example/bank-connector")
_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?")
SEALED_MAX_CHARS = 4_096
ROTATION_GRACE_MAX = timedelta(days=1)


class BankProvider(StrEnum):
    """The published formats a connector speaks (each has its adapter in adapters/banks)."""

    PAYOS = "payos"
    CASSO = "casso"
    SEPAY = "sepay"
    CAMT054 = "camt054"


@dataclass(frozen=True, slots=True)
class SealedSecret:
    """A secret as stored; only the sealer that made ``value`` can open it."""

    value: str

    def __repr__(self) -> str:  # never print a secret, even a sealed one
        return "SealedSecret(***)"


def connector_id(name: str) -> UUID:
    return uuid5(CONNECTOR_NAMESPACE, name)


def checked_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise InvalidValue(f"connector name {name!r} must be 1-40 lower-case letters, digits or dashes")
    return name


class BankConnector(Aggregate):
    """A registered bank notification source (see module docstring)."""

    class Registered(Aggregate.Created):
        name: str
        provider: str
        secret_sealed: str

    class SecretRotated(Aggregate.Event):
        secret_sealed: str
        previous_valid_until: datetime  # the replaced secret is accepted before this instant

        def apply(self, aggregate: BankConnector) -> None:
            aggregate.previous = aggregate.secret
            aggregate.previous_valid_until = self.previous_valid_until
            aggregate.secret = SealedSecret(self.secret_sealed)
            aggregate.rotations += 1

    def __init__(self, name: str, provider: str, secret_sealed: str) -> None:
        self.name = name
        self.provider = BankProvider(provider)
        self.secret = SealedSecret(secret_sealed)
        self.previous: SealedSecret | None = None
        self.previous_valid_until: datetime | None = None
        self.rotations = 0

    @classmethod
    def register(cls, *, name: str, provider: BankProvider, secret: SealedSecret, at: datetime) -> BankConnector:
        _check_sealed(secret)
        return cls._create(
            cls.Registered,
            id=connector_id(checked_name(name)),
            timestamp=at,
            name=name,
            provider=provider.value,
            secret_sealed=secret.value,
        )

    def rotate(self, secret: SealedSecret, grace: timedelta, at: datetime) -> None:
        """Take ``secret`` from ``at`` on; the current one stays accepted for ``grace``."""
        _check_sealed(secret)
        if not timedelta(0) <= grace <= ROTATION_GRACE_MAX:
            raise InvalidValue(f"the old secret's grace is 0 to {ROTATION_GRACE_MAX.days * 86_400} seconds")
        if at < self.modified_on:
            raise InvalidTransition(f"connector {self.name} changed at {self.modified_on.isoformat()}, after {at}")
        self.trigger_event(
            self.SecretRotated, timestamp=at, secret_sealed=secret.value, previous_valid_until=at + grace
        )

    def secrets_at(self, at: datetime) -> list[SealedSecret]:
        """The secrets a notice arriving at ``at`` may be signed with: the current one, and
        the one it replaced while that one's grace lasts."""
        accepted = [self.secret]
        if self.previous is not None and self.previous_valid_until is not None and at < self.previous_valid_until:
            accepted.append(self.previous)
        return accepted

    def view(self) -> dict[str, Any]:
        """What may be shown of a connector: never its secret."""
        until = self.previous_valid_until
        return {
            "connector_id": str(self.id),
            "name": self.name,
            "provider": self.provider.value,
            "rotations": self.rotations,
            "previous_secret_valid_until": None if until is None else until.isoformat(),
        }


def _check_sealed(secret: SealedSecret) -> None:
    if not secret.value or len(secret.value) > SEALED_MAX_CHARS:
        raise InvalidValue(f"a sealed secret is 1-{SEALED_MAX_CHARS} characters")
