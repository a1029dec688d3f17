"""Vocabulary shared by the parking model: vehicle classes, channels, payment methods, ids.

Ids are ``uuid5`` of natural keys (a lot's code, a client's session or reservation
reference), so a retried command recreates the same id and the event store refuses to
write it twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.model.errors import InvalidTransition, InvalidValue

LOT_NAMESPACE = uuid5(NAMESPACE_URL, "https://citysettle.example/parking/lot")
SESSION_NAMESPACE = uuid5(NAMESPACE_URL, "https://citysettle.example/parking/session")
RESERVATION_NAMESPACE = uuid5(NAMESPACE_URL, "https://citysettle.example/parking/reservation")

E = TypeVar("E", bound=StrEnum)

# Parking holds expire this long after the stay is expected to end at the latest: time
# for late exits and attendants' end-of-day batches, without freezing a wallet for ever.
HOLD_SLACK = timedelta(days=1)
# A stay with no booked end and no maximum stay is pre-authorised for one day.
DEFAULT_STAY = timedelta(days=1)


class NothingDue(InvalidTransition):
    """A payment was asked for a session that owes nothing (paid, or settled in cash or by wallet)."""

    code = "nothing-due"


class VehicleClass(StrEnum):
    CAR = "car"
    MOTORBIKE = "motorbike"


class Channel(StrEnum):
    """Who told us a session started or ended."""

    APP = "app"
    ATTENDANT = "attendant"
    METER = "meter"
    GATE = "gate"


class PaymentMethod(StrEnum):
    CASH = "cash"  # paid to an attendant or a gate's cash machine
    WALLET = "wallet"  # the driver's prepaid wallet, through a hold when there is one
    QR = "qr"  # a dynamic VietQR payment for the amount due, made by the payments module

    @property
    def cashless(self) -> bool:
        return self is not PaymentMethod.CASH


def lot_id(code: str) -> UUID:
    return uuid5(LOT_NAMESPACE, code)


@lru_cache(maxsize=4_096)  # uuid5 is ~5 µs: a meter batch asks for each entry's id three times
def session_id(lot: UUID, reference: str) -> UUID:
    """A session's id from the lot and the client's reference (gate ticket, app request, ...)."""
    return uuid5(SESSION_NAMESPACE, f"{lot}:{reference}")


def reservation_id(lot: UUID, reference: str) -> UUID:
    return uuid5(RESERVATION_NAMESPACE, f"{lot}:{reference}")


def aware(at: datetime, name: str = "at") -> datetime:
    """Refuse naive datetimes: local wall-clock time without an offset is ambiguous."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidValue(f"{name} must be timezone-aware")
    return at


def label(value: object, name: str, max_len: int = 64) -> str:
    """A short printable identifier (code, plate, reference) from outside."""
    if not isinstance(value, str) or not 0 < len(value) <= max_len or not value.isprintable():
        raise InvalidValue(f"{name} must be 1-{max_len} printable characters")
    if value != value.strip():
        raise InvalidValue(f"{name} must not start or end with spaces")
    return value


def choice(kind: type[E], value: object, name: str) -> E:
    allowed = [m.value for m in kind]
    if not isinstance(value, str) or value not in allowed:
        raise InvalidValue(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return kind(value)
