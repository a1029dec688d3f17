"""Prepaid wallets of riders and drivers: the consistency boundary of every wallet spend.

The ledger's ``wallet:<holder>`` account says where money went; balances read from it
are an eventually consistent projection and cannot refuse a spend. A `Wallet` can: each
use case that moves money out of a wallet appends the wallet's event in the same atomic
write as the ledger transfer or hold, so the event store's version check on the wallet
stream serialises concurrent spends and the loser re-decides on the fresh balance.

`Wallet` invariants:
- its id is ``uuid5`` of the holder id; ``balance_vnd`` and ``reserved_vnd`` are ints
  ``>= 0`` and ``reserved_vnd <= balance_vnd``; ``available_vnd = balance - reserved``;
- a debit or a reservation never exceeds ``available_vnd`` (`InsufficientFunds`);
- every change names its cause, the cause string of the ledger transfer or hold it
  guards (a top-up names its payment, ``payment:<reference>``); a cause is applied at
  most once: the same change again is a no-op (a retry), a different change under a
  used cause is refused;
- a reservation ends exactly once: captured for ``1..reserved`` (the rest is released at
  the same time) or released; like the ledger hold it mirrors, it cannot be captured
  once it has lapsed (``at >= expires_at``), only released.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.model.errors import DomainError, InvalidTransition, InvalidValue
from domain.model.ledger import wallet
from domain.model.money import checked_vnd

WALLET_NAMESPACE = uuid5(NAMESPACE_URL, "https://citysettle.example/wallet")
MAX_CAUSE_LEN = 200  # the longest ledger cause is a parking hold's: prefix, uuid, ISO time


def wallet_id(holder_id: str) -> UUID:
    return uuid5(WALLET_NAMESPACE, holder_id)


class InsufficientFunds(DomainError):
    """A wallet spend needs more than the wallet has available; nothing was written."""

    code = "insufficient-funds"
    status = 402  # Payment Required: the client can top up and retry

    def __init__(self, holder_id: str, needed_vnd: int, available_vnd: int, cause: str) -> None:
        super().__init__(
            f"wallet of {holder_id} has {available_vnd} VND available, {needed_vnd} VND needed for {cause}"
        )
        self.holder_id = holder_id
        self.needed_vnd = needed_vnd
        self.available_vnd = available_vnd
        self.cause = cause


class ChangeKind(StrEnum):
    TOPPED_UP = "topped_up"
    DEBITED = "debited"
    RESERVED = "reserved"  # open: the reservation has not ended yet
    CAPTURED = "captured"
    RELEASED = "released"


@dataclass(frozen=True, slots=True)
class Change:
    """What a cause did to the wallet; ``amount_vnd`` is what a capture took, 0 for a release."""

    kind: ChangeKind
    amount_vnd: int


@dataclass(frozen=True, slots=True)
class OpenReservation:
    amount_vnd: int
    expires_at: datetime


class Wallet(Aggregate):
    """One holder's prepaid balance (module docstring lists the invariants)."""

    class Opened(Aggregate.Created):
        holder_id: str

    class ToppedUp(Aggregate.Event):
        cause: str
        amount_vnd: int

        def apply(self, aggregate: Wallet) -> None:
            aggregate.balance_vnd += self.amount_vnd
            aggregate.changes[self.cause] = Change(ChangeKind.TOPPED_UP, self.amount_vnd)

    class Debited(Aggregate.Event):
        cause: str
        amount_vnd: int

        def apply(self, aggregate: Wallet) -> None:
            aggregate.balance_vnd -= self.amount_vnd
            aggregate.changes[self.cause] = Change(ChangeKind.DEBITED, self.amount_vnd)

    class Reserved(Aggregate.Event):
        cause: str
        amount_vnd: int
        expires_at: datetime

        def apply(self, aggregate: Wallet) -> None:
            aggregate.reserved_vnd += self.amount_vnd
            aggregate.reservations[self.cause] = OpenReservation(self.amount_vnd, self.expires_at)
            aggregate.changes[self.cause] = Change(ChangeKind.RESERVED, self.amount_vnd)

    class ReservationCaptured(Aggregate.Event):
        cause: str
        amount_vnd: int
        released_vnd: int

        def apply(self, aggregate: Wallet) -> None:
            held = aggregate.reservations.pop(self.cause)
            aggregate.reserved_vnd -= held.amount_vnd
            aggregate.balance_vnd -= self.amount_vnd
            aggregate.changes[self.cause] = Change(ChangeKind.CAPTURED, self.amount_vnd)

    class ReservationReleased(Aggregate.Event):
        cause: str
        amount_vnd: int
        reason: str

        def apply(self, aggregate: Wallet) -> None:
            held = aggregate.reservations.pop(self.cause)
            aggregate.reserved_vnd -= held.amount_vnd
            aggregate.changes[self.cause] = Change(ChangeKind.RELEASED, 0)

    def __init__(self, holder_id: str) -> None:
        self.holder_id = holder_id
        self.balance_vnd = 0
        self.reserved_vnd = 0
        self.reservations: dict[str, OpenReservation] = {}
        self.changes: dict[str, Change] = {}

    @classmethod
    def open(cls, holder_id: str, at: datetime) -> Wallet:
        wallet(holder_id)  # the holder id must also name the wallet's ledger account
        return cls._create(cls.Opened, id=wallet_id(holder_id), timestamp=at, holder_id=holder_id)

    @property
    def available_vnd(self) -> int:
        return self.balance_vnd - self.reserved_vnd

    def reserved_for(self, cause: str) -> int:
        """What the open reservation of ``cause`` holds (0 when there is none)."""
        found = self.reservations.get(cause)
        return found.amount_vnd if found else 0

    def lapsed(self, at: datetime) -> list[str]:
        """Causes of open reservations that can no longer be captured at ``at``."""
        return sorted(c for c, r in self.reservations.items() if at >= r.expires_at)

    def top_up(self, cause: str, amount_vnd: int, at: datetime) -> bool:
        """Add money that reached the wallet's ledger account; False when already applied."""
        if self._done(cause, ChangeKind.TOPPED_UP, _positive(amount_vnd)):
            return False
        self.trigger_event(self.ToppedUp, timestamp=at, cause=cause, amount_vnd=amount_vnd)
        return True

    def debit(self, cause: str, amount_vnd: int, at: datetime) -> bool:
        """Spend at once; False when already applied."""
        if self._done(cause, ChangeKind.DEBITED, _positive(amount_vnd)):
            return False
        self._require_available(cause, amount_vnd)
        self.trigger_event(self.Debited, timestamp=at, cause=cause, amount_vnd=amount_vnd)
        return True

    def reserve(self, cause: str, amount_vnd: int, at: datetime, expires_at: datetime) -> bool:
        """Set money aside for a later capture; False when already applied."""
        if self._done(cause, ChangeKind.RESERVED, _positive(amount_vnd)):
            return False
        if expires_at <= at:
            raise InvalidValue("a reservation must expire after it is made")
        self._require_available(cause, amount_vnd)
        self.trigger_event(self.Reserved, timestamp=at, cause=cause, amount_vnd=amount_vnd, expires_at=expires_at)
        return True

    def capture(self, cause: str, amount_vnd: int, at: datetime) -> bool:
        """Spend ``amount_vnd`` of the reservation ``cause``, release the rest; False when already applied."""
        if self._done(cause, ChangeKind.CAPTURED, _positive(amount_vnd)):
            return False
        held = self._open(cause)
        if at >= held.expires_at:
            raise InvalidTransition(f"the reservation {cause} has lapsed: it can only be released")
        if amount_vnd > held.amount_vnd:
            raise InvalidValue(f"can capture 1..{held.amount_vnd} VND of reservation {cause}, not {amount_vnd}")
        released = held.amount_vnd - amount_vnd
        self.trigger_event(
            self.ReservationCaptured, timestamp=at, cause=cause, amount_vnd=amount_vnd, released_vnd=released
        )
        return True

    def release(self, cause: str, reason: str, at: datetime) -> bool:
        """Give the whole reservation ``cause`` back to the available balance; False when already applied."""
        if self._done(cause, ChangeKind.RELEASED, 0):
            return False
        held = self._open(cause)
        self.trigger_event(
            self.ReservationReleased, timestamp=at, cause=cause, amount_vnd=held.amount_vnd, reason=reason
        )
        return True

    def _done(self, cause: str, kind: ChangeKind, amount_vnd: int) -> bool:
        """True when ``cause`` already made exactly this change (a retry); refuse any other reuse."""
        if not isinstance(cause, str) or not 0 < len(cause) <= MAX_CAUSE_LEN:
            raise InvalidValue(f"a wallet change names its cause in 1..{MAX_CAUSE_LEN} characters")
        earlier = self.changes.get(cause)
        if earlier is None:
            return False
        if earlier == Change(kind, amount_vnd):
            return True
        if earlier.kind is ChangeKind.RESERVED and kind in (ChangeKind.CAPTURED, ChangeKind.RELEASED):
            return False  # ending an open reservation is its next step, not a reuse
        raise InvalidTransition(
            f"cause {cause} already {earlier.kind.value} {earlier.amount_vnd} VND in wallet of {self.holder_id}"
        )

    def _open(self, cause: str) -> OpenReservation:
        held = self.reservations.get(cause)
        if held is None:
            raise InvalidTransition(f"wallet of {self.holder_id} has no open reservation {cause}")
        return held

    def _require_available(self, cause: str, amount_vnd: int) -> None:
        if amount_vnd > self.available_vnd:
            raise InsufficientFunds(self.holder_id, amount_vnd, self.available_vnd, cause)


def _positive(amount_vnd: int) -> int:
    if checked_vnd(amount_vnd) == 0:
        raise InvalidValue("a wallet change moves a positive amount")
    return amount_vnd
