"""Products, fares, service days and the refund rule."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from domain.model.errors import InvalidValue, NotFound
from domain.model.tickets import (
    PAYG_FARES,
    PRODUCTS,
    Concession,
    PaygFare,
    Product,
    ProductKind,
    Validity,
    ValidityUnit,
    find_fare,
    find_product,
    service_day,
    service_day_start,
)
from domain.model.tickets.service_day import checked_id, checked_text, checked_time

ICT = timezone(timedelta(hours=7))
MONTH = PRODUCTS["MONTH"]


def local(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ICT)


def test_service_day_rolls_over_at_three_in_the_morning_local_time() -> None:
    assert service_day(local(2025, 3, 11, 2, 59)) == date(2025, 3, 10)
    assert service_day(local(2025, 3, 11, 3, 0)) == date(2025, 3, 11)
    assert service_day_start(date(2025, 3, 11)) == datetime(2025, 3, 10, 20, 0, tzinfo=UTC)


def test_naive_times_and_bad_identifiers_are_refused() -> None:
    with pytest.raises(InvalidValue):
        checked_time(datetime(2025, 3, 10, 8, 0))
    for bad in ("", "a:b", "x" * 65, "tab\there", 7):
        with pytest.raises(InvalidValue):
            checked_id(bad, name="id")
    with pytest.raises(InvalidValue):
        checked_text("", "reason", 10)
    assert checked_id("bus-12", name="id") == "bus-12"


def test_minute_validity_counts_from_activation() -> None:
    at = local(2025, 3, 10, 23, 50)
    assert Validity(ValidityUnit.MINUTES, 90).until(at) == at + timedelta(minutes=90)


def test_day_validity_ends_when_the_service_day_ends() -> None:
    until = Validity(ValidityUnit.SERVICE_DAYS, 1).until(local(2025, 3, 11, 1, 0))  # still the 10th
    assert until == local(2025, 3, 11, 3, 0)
    assert Validity(ValidityUnit.SERVICE_DAYS, 30).until(local(2025, 3, 10, 8, 0)) == local(2025, 4, 9, 3, 0)


@pytest.mark.parametrize(
    ("unit", "length"),
    [(ValidityUnit.MINUTES, 0), (ValidityUnit.MINUTES, 24 * 60 + 1), (ValidityUnit.SERVICE_DAYS, 367)],
)
def test_validity_length_is_bounded(unit: ValidityUnit, length: int) -> None:
    with pytest.raises(InvalidValue):
        Validity(unit, length)


@pytest.mark.parametrize(
    "change",
    [
        {"code": "has space"},
        {"code": "X" * 17},
        {"price_vnd": 0},
        {"price_vnd": -1},
        {"passback_minutes": 0},
        {"activate_within_days": 0},
    ],
)
def test_product_terms_are_checked(change: dict[str, object]) -> None:
    terms = {**MONTH.as_dict(), **change}
    with pytest.raises(InvalidValue):
        Product.from_dict(terms)


def test_product_terms_round_trip_through_their_dict() -> None:
    for product in PRODUCTS.values():
        assert Product.from_dict(product.as_dict()) == product
    for fare in PAYG_FARES.values():
        assert PaygFare.from_dict(fare.as_dict()) == fare


def test_catalogue_codes_fit_a_signed_ticket_code() -> None:
    for code in PRODUCTS:
        assert re.fullmatch(r"[A-Za-z0-9._-]{1,16}", code)
    assert {p.kind for p in PRODUCTS.values()} == set(ProductKind)
    assert {p.concession for p in PRODUCTS.values()} == set(Concession)


def test_single_rides_allow_one_ride_and_passes_any_number() -> None:
    assert PRODUCTS["SINGLE"].rides_max == 1
    assert PRODUCTS["DAY"].rides_max is None
    assert MONTH.passback == timedelta(minutes=MONTH.passback_minutes)


def test_unknown_codes_are_not_found() -> None:
    assert find_product("DAY") is PRODUCTS["DAY"]
    assert find_fare("PAYG-STU") is PAYG_FARES["PAYG-STU"]
    with pytest.raises(NotFound):
        find_product("WEEK")
    with pytest.raises(NotFound):
        find_fare("FREE")


@pytest.mark.parametrize(("fare_vnd", "cap_vnd"), [(0, 10_000), (10_001, 10_000), (-1, 10_000)])
def test_a_fare_is_positive_and_within_its_cap(fare_vnd: int, cap_vnd: int) -> None:
    with pytest.raises(InvalidValue):
        PaygFare("PAYG-X", Concession.NONE, fare_vnd, cap_vnd, 20)


def test_refund_of_a_ticket_never_activated_is_the_full_price() -> None:
    for product in PRODUCTS.values():
        assert product.refund_vnd(product.price_vnd, None, local(2025, 3, 10, 8, 0)) == product.price_vnd


def test_refund_of_an_activated_monthly_pass_is_pro_rata_for_whole_days_ahead() -> None:
    until = MONTH.validity.until(local(2025, 3, 10, 8, 0))
    assert MONTH.refund_vnd(200_000, until, local(2025, 3, 10, 9, 0)) == 200_000 * 29 // 30
    assert MONTH.refund_vnd(200_000, until, local(2025, 3, 13, 8, 0)) == 200_000 * 26 // 30
    assert MONTH.refund_vnd(200_000, until, local(2025, 4, 8, 22, 0)) == 0  # the last day is today


def test_activated_single_rides_and_day_passes_are_not_refundable() -> None:
    at = local(2025, 3, 10, 8, 0)
    for code in ("SINGLE", "DAY"):
        product = PRODUCTS[code]
        assert product.refund_vnd(product.price_vnd, product.validity.until(at), at) == 0
