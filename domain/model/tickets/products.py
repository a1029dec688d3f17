"""E-ticket products and pay-as-you-go fares, as data.

`Product` invariants:
- the code fits a signed ticket code (1-16 of ``[A-Za-z0-9._-]``, see ``qr.tickets``);
- the price is a positive whole number of đồng (free travel is not sold as a ticket);
- a single-ride product allows exactly one ride; a pass allows any number of rides,
  never two on the same vehicle within ``passback_minutes`` (at least 1);
- validity is counted from activation, either in minutes or in whole service days
  (a day pass ends when the service day of its activation ends, not 24 h later);
- a concession product names who may buy it; the buyer shows evidence (checked at
  purchase, see `Ticket.issue`).

`PaygFare` invariants: ``0 < fare_vnd <= daily_cap_vnd``; the cap applies per rider per
service day.

Refund rule (`Product.refund_vnd`): a paid ticket never activated is refunded in full;
an activated pass valid for two or more service days is refunded pro rata for the whole
service days still ahead (the current day counts as used), rounded down to the đồng;
anything else (a single ride or day pass once activated) is not refundable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from domain.model.errors import InvalidValue, NotFound
from domain.model.money import checked_vnd
from domain.model.tickets.service_day import service_day, service_day_start

_CODE = re.compile(r"[A-Za-z0-9._-]{1,16}")
MAX_VALIDITY_MINUTES = 24 * 60
MAX_VALIDITY_DAYS = 366
MAX_PASSBACK_MINUTES = 24 * 60
MAX_ACTIVATE_WITHIN_DAYS = 366


class ProductKind(StrEnum):
    SINGLE_RIDE = "single_ride"
    # A bus pass, not a password: S105 misreads the word.
    DAY_PASS = "day_pass"  # noqa: S105
    MONTHLY_PASS = "monthly_pass"  # noqa: S105


class Concession(StrEnum):
    NONE = "none"
    STUDENT = "student"
    ELDERLY = "elderly"


class ValidityUnit(StrEnum):
    MINUTES = "minutes"
    SERVICE_DAYS = "service_days"


@dataclass(frozen=True, slots=True)
class Validity:
    unit: ValidityUnit
    length: int

    def __post_init__(self) -> None:
        limit = MAX_VALIDITY_MINUTES if self.unit is ValidityUnit.MINUTES else MAX_VALIDITY_DAYS
        if isinstance(self.length, bool) or not isinstance(self.length, int) or not 0 < self.length <= limit:
            raise InvalidValue(f"validity of {self.length} {self.unit} is outside 1..{limit}")

    def until(self, activated_at: datetime) -> datetime:
        """The exclusive end of validity for a ticket activated at ``activated_at``."""
        if self.unit is ValidityUnit.MINUTES:
            return activated_at + timedelta(minutes=self.length)
        return service_day_start(service_day(activated_at) + timedelta(days=self.length))


def _checked_count(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidValue(f"{name} must be an integer in {low}..{high}, got {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class Product:
    code: str
    kind: ProductKind
    concession: Concession
    name: str
    price_vnd: int
    validity: Validity
    passback_minutes: int
    activate_within_days: int

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not _CODE.fullmatch(self.code):
            raise InvalidValue(f"product code {self.code!r} must be 1-16 of A-Z a-z 0-9 . _ -")
        if checked_vnd(self.price_vnd, name="price_vnd") == 0:
            raise InvalidValue("a product has a positive price")
        _checked_count(self.passback_minutes, "passback_minutes", 1, MAX_PASSBACK_MINUTES)
        _checked_count(self.activate_within_days, "activate_within_days", 1, MAX_ACTIVATE_WITHIN_DAYS)

    @property
    def rides_max(self) -> int | None:
        """How many rides the ticket allows; ``None`` means any number."""
        return 1 if self.kind is ProductKind.SINGLE_RIDE else None

    @property
    def passback(self) -> timedelta:
        return timedelta(minutes=self.passback_minutes)

    def refund_vnd(self, paid_vnd: int, valid_until: datetime | None, at: datetime) -> int:
        """What a refund at ``at`` returns (module docstring has the rule)."""
        if valid_until is None:
            return paid_vnd
        if self.validity.unit is not ValidityUnit.SERVICE_DAYS or self.validity.length < 2:
            return 0
        next_day_start = service_day_start(service_day(at) + timedelta(days=1))
        days_ahead = max(0, (valid_until - next_day_start) // timedelta(days=1))
        return paid_vnd * days_ahead // self.validity.length

    def as_dict(self) -> dict[str, Any]:
        """The product's terms as stored in a ticket's `Issued` event."""
        return {
            "code": self.code,
            "kind": self.kind.value,
            "concession": self.concession.value,
            "name": self.name,
            "price_vnd": self.price_vnd,
            "validity_unit": self.validity.unit.value,
            "validity_length": self.validity.length,
            "passback_minutes": self.passback_minutes,
            "activate_within_days": self.activate_within_days,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Product:
        return cls(
            code=data["code"],
            kind=ProductKind(data["kind"]),
            concession=Concession(data["concession"]),
            name=data["name"],
            price_vnd=data["price_vnd"],
            validity=Validity(ValidityUnit(data["validity_unit"]), data["validity_length"]),
            passback_minutes=data["passback_minutes"],
            activate_within_days=data["activate_within_days"],
        )


@dataclass(frozen=True, slots=True)
class PaygFare:
    """A pay-as-you-go fare table: each tap costs ``fare_vnd`` until the daily cap."""

    code: str
    concession: Concession
    fare_vnd: int
    daily_cap_vnd: int
    passback_minutes: int

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not _CODE.fullmatch(self.code):
            raise InvalidValue(f"fare code {self.code!r} must be 1-16 of A-Z a-z 0-9 . _ -")
        if not 0 < checked_vnd(self.fare_vnd, name="fare_vnd") <= checked_vnd(self.daily_cap_vnd, name="cap"):
            raise InvalidValue("a fare is positive and at most the daily cap")
        _checked_count(self.passback_minutes, "passback_minutes", 1, MAX_PASSBACK_MINUTES)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "concession": self.concession.value,
            "fare_vnd": self.fare_vnd,
            "daily_cap_vnd": self.daily_cap_vnd,
            "passback_minutes": self.passback_minutes,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PaygFare:
        concession = Concession(data["concession"])
        return cls(data["code"], concession, data["fare_vnd"], data["daily_cap_vnd"], data["passback_minutes"])


_T = TypeVar("_T", Product, PaygFare)


def _catalogue(*items: _T) -> Mapping[str, _T]:
    found = {item.code: item for item in items}
    if len(found) != len(items):
        raise InvalidValue("product codes in a catalogue must be unique")
    return found


_RIDE = Validity(ValidityUnit.MINUTES, 90)  # long enough to finish the ride with the ticket still showing valid
_DAY = Validity(ValidityUnit.SERVICE_DAYS, 1)
_MONTH = Validity(ValidityUnit.SERVICE_DAYS, 30)
_S, _D, _M = ProductKind.SINGLE_RIDE, ProductKind.DAY_PASS, ProductKind.MONTHLY_PASS
_FULL, _STUDENT, _ELDERLY = Concession.NONE, Concession.STUDENT, Concession.ELDERLY

# The default catalogue; prices follow the order of magnitude of Hanoi and Ho Chi Minh City buses.
PRODUCTS: Mapping[str, Product] = _catalogue(
    Product("SINGLE", _S, _FULL, "Single ride", 8_000, _RIDE, 1, 30),
    Product("SINGLE-STU", _S, _STUDENT, "Single ride, student", 3_000, _RIDE, 1, 30),
    Product("SINGLE-ELD", _S, _ELDERLY, "Single ride, elderly", 4_000, _RIDE, 1, 30),
    Product("DAY", _D, _FULL, "Day pass", 40_000, _DAY, 20, 30),
    Product("MONTH", _M, _FULL, "Monthly pass, all routes", 200_000, _MONTH, 20, 30),
    Product("MONTH-STU", _M, _STUDENT, "Monthly pass, student", 100_000, _MONTH, 20, 30),
    Product("MONTH-ELD", _M, _ELDERLY, "Monthly pass, elderly", 100_000, _MONTH, 20, 30),
)

# Each cap equals the matching day pass or less, so tapping never costs more than planning ahead.
PAYG_FARES: Mapping[str, PaygFare] = _catalogue(
    PaygFare("PAYG", _FULL, 8_000, 40_000, 20),
    PaygFare("PAYG-STU", _STUDENT, 3_000, 15_000, 20),
    PaygFare("PAYG-ELD", _ELDERLY, 4_000, 20_000, 20),
)


def find_product(code: str, catalogue: Mapping[str, Product] = PRODUCTS) -> Product:
    found = catalogue.get(code)
    if found is None:
        raise NotFound(f"no ticket product {code!r}")
    return found


def find_fare(code: str, fares: Mapping[str, PaygFare] = PAYG_FARES) -> PaygFare:
    found = fares.get(code)
    if found is None:
        raise NotFound(f"no pay-as-you-go fare {code!r}")
    return found
