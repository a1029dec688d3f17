"""Pricing a stay: `quote(tariff_or_schedule, start, end)` → the fee and its itemised segments.

The rules, in order:
- a stay no longer than the grace period (of the tariff in force at its start) is free;
- otherwise the first block, if the tariff at the start has one, is charged as one price
  (from the band the stay starts in), and every billing unit that *starts* before the end
  is charged in full: a started hour is a paid hour;
- a unit is priced by the tariff in force when it starts, so a stay that spans a tariff
  change is priced per segment under the tariff in force; the hour of the stay keeps
  counting across the change (progressive steps do not restart);
- the daily cap applies per 24-hour period counted from the start: a unit is charged at
  most what is left under the cap of its tariff in that period.

Every unit's charge depends only on the start, the schedule and the unit's position, never
on the end, and no charge is negative: the fee never decreases as a stay grows longer.
Segments group consecutive units with the same tariff, band, period and price; their
amounts sum to the total.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from domain.model.errors import InvalidValue
from domain.model.parking.common import aware
from domain.model.parking.tariffs import Band, Tariff, TariffSchedule

# Bounds the work of one quote (a year of 5-minute units); an abandoned car is still billable.
MAX_BILLABLE = timedelta(days=366)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


class SegmentKind(StrEnum):
    FIRST_BLOCK = "first_block"
    UNIT = "unit"


@dataclass(frozen=True, slots=True)
class Segment:
    """Consecutive units priced alike. ``amount_vnd`` is after the daily cap."""

    start: datetime
    end: datetime
    kind: SegmentKind
    tariff_code: str
    band: str
    day: int  # 1-based 24-hour period of the stay, the one whose cap applies
    units: int
    unit_vnd: int
    amount_vnd: int

    @property
    def capped_vnd(self) -> int:
        """What the daily cap took off the list price of these units."""
        return self.units * self.unit_vnd - self.amount_vnd

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "kind": self.kind.value,
            "tariff_code": self.tariff_code,
            "band": self.band,
            "day": self.day,
            "units": self.units,
            "unit_vnd": self.unit_vnd,
            "amount_vnd": self.amount_vnd,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Segment:
        return cls(
            datetime.fromisoformat(data["start"]),
            datetime.fromisoformat(data["end"]),
            SegmentKind(data["kind"]),
            data["tariff_code"],
            data["band"],
            data["day"],
            data["units"],
            data["unit_vnd"],
            data["amount_vnd"],
        )


@dataclass(frozen=True, slots=True)
class Quote:
    start: datetime
    end: datetime
    total_vnd: int
    segments: tuple[Segment, ...]
    within_grace: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "total_vnd": self.total_vnd,
            "within_grace": self.within_grace,
            "segments": [s.as_dict() for s in self.segments],
        }


def quote(tariff: Tariff | TariffSchedule, start: datetime, end: datetime) -> Quote:
    """The fee for a stay from ``start`` to ``end`` (any length up to `MAX_BILLABLE`).

    The maximum stay is not enforced here: an overstaying car still pays for its time.
    Commands that book a stay check it with `TariffSchedule.check_stay`.
    """
    schedule = tariff if isinstance(tariff, TariffSchedule) else TariffSchedule.always(tariff)
    aware(start, "start")
    aware(end, "end")
    if end < start:
        raise InvalidValue("a stay cannot end before it starts")
    if end - start > MAX_BILLABLE:
        raise InvalidValue(f"a stay longer than {MAX_BILLABLE.days} days cannot be priced by tariff")
    first = schedule.in_force(start)
    if end - start <= timedelta(minutes=first.grace_minutes):
        return Quote(start, end, 0, (), within_grace=True)
    segments: list[Segment] = []
    for charge in _charges(schedule, first, start, end):
        charge = _clip(charge, end)
        last = segments[-1] if segments else None
        if last is not None and _same_group(last, charge):
            segments[-1] = _merge(last, charge)
        else:
            segments.append(charge)
    return Quote(start, end, sum(s.amount_vnd for s in segments), tuple(segments), within_grace=False)


def _charges(schedule: TariffSchedule, first: Tariff, start: datetime, end: datetime) -> Iterator[Segment]:
    """One single-unit segment per charged unit, in order."""
    cap = _DailyCap(start)
    at = start
    if first.first_block_minutes:
        band = first.band_at(start)
        assert band.first_block_vnd is not None, "Tariff guarantees a block price in every band"
        until = start + timedelta(minutes=first.first_block_minutes)
        yield cap.charge(SegmentKind.FIRST_BLOCK, at, until, first, band, band.first_block_vnd)
        at = until
    while at < end:
        tariff = schedule.in_force(at)
        band = tariff.band_at(at)
        until = at + timedelta(minutes=tariff.unit_minutes)
        yield cap.charge(SegmentKind.UNIT, at, until, tariff, band, band.unit_vnd((at - start) // HOUR + 1))
        at = until


class _DailyCap:
    """What has been charged so far in the current 24-hour period of the stay."""

    def __init__(self, start: datetime) -> None:
        self._start = start
        self._period = 0
        self._charged_vnd = 0

    def charge(
        self, kind: SegmentKind, at: datetime, until: datetime, tariff: Tariff, band: Band, price_vnd: int
    ) -> Segment:
        period = (at - self._start) // DAY
        if period != self._period:
            self._period, self._charged_vnd = period, 0
        amount = price_vnd
        if tariff.daily_cap_vnd is not None:
            amount = max(0, min(price_vnd, tariff.daily_cap_vnd - self._charged_vnd))
        self._charged_vnd += amount
        return Segment(at, until, kind, tariff.code, band.name, period + 1, 1, price_vnd, amount)


def _clip(segment: Segment, end: datetime) -> Segment:
    """The last unit is charged in full but covers the stay only up to its end."""
    return segment if segment.end <= end else replace(segment, end=end)


def _same_group(a: Segment, b: Segment) -> bool:
    return (a.kind, a.tariff_code, a.band, a.day, a.unit_vnd) == (b.kind, b.tariff_code, b.band, b.day, b.unit_vnd)


def _merge(a: Segment, b: Segment) -> Segment:
    return replace(a, end=b.end, units=a.units + b.units, amount_vnd=a.amount_vnd + b.amount_vnd)
