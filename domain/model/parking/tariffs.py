"""Parking tariffs as data: frozen value objects that load from and dump to plain dicts.

A tariff prices a stay in billing units (``unit_minutes``, one hour by default),
optionally after a first block priced as one. Each unit is priced by the time-of-day band
(day, night, ...) it starts in, and within the band by the hour of the stay it starts in
(progressive steps: 25,000 VND/h for hours 1-2, 35,000 for 3-4, 45,000 from hour 5). A
flat per-visit price (motorbikes) is a tariff whose unit is the visit:
`Tariff.per_visit` builds one. The pricing itself is `domain.model.parking.quotes.quote`.

Invariants (checked on construction, so a tariff loaded from JSON is as safe as one built
in code): bands start at distinct minutes of the local day, in order; steps start at
hour 1 and increase; every price is a whole, non-negative number of đồng; a first block
has a price in every band; limits are positive and bounded. A `TariffSchedule` lists
tariffs by the instant they take effect, strictly in order, all for one vehicle class.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from typing import Any

from domain.model.errors import InvalidValue
from domain.model.money import checked_vnd
from domain.model.parking.common import VehicleClass, aware, choice, label

MINUTES_PER_DAY = 24 * 60
MAX_BANDS = 24
MAX_STEPS = 48
MIN_UNIT_MINUTES = 5  # bounds the work of pricing a long stay
MAX_STAY_MINUTES = 31 * MINUTES_PER_DAY  # longer stays are monthly passes, not tariffs
VIETNAM_UTC_OFFSET_MINUTES = 7 * 60


def _bounded(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidValue(f"{name} must be an integer in {low}..{high}, got {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class Step:
    """From hour ``from_hour`` of the stay (1-based) on, a unit costs ``unit_vnd``."""

    from_hour: int
    unit_vnd: int

    def __post_init__(self) -> None:
        _bounded(self.from_hour, "from_hour", 1, MAX_STAY_MINUTES // 60)
        checked_vnd(self.unit_vnd, name="unit_vnd")


@dataclass(frozen=True, slots=True)
class Band:
    """Prices for units that start from ``starts_at`` (local time) until the next band."""

    name: str
    starts_at: time
    steps: tuple[Step, ...]
    first_block_vnd: int | None = None

    def __post_init__(self) -> None:
        label(self.name, "band name", 32)
        if self.starts_at.tzinfo is not None or self.starts_at.second or self.starts_at.microsecond:
            raise InvalidValue("a band starts at a whole minute of local time, without a zone")
        if not 0 < len(self.steps) <= MAX_STEPS or self.steps[0].from_hour != 1:
            raise InvalidValue(f"band {self.name}: 1-{MAX_STEPS} steps, the first from hour 1")
        if any(a.from_hour >= b.from_hour for a, b in pairwise(self.steps)):
            raise InvalidValue(f"band {self.name}: steps must start at increasing hours")
        if self.first_block_vnd is not None:
            checked_vnd(self.first_block_vnd, name="first_block_vnd")

    @property
    def starts_minute(self) -> int:
        return self.starts_at.hour * 60 + self.starts_at.minute

    def unit_vnd(self, hour: int) -> int:
        """The price of a unit that starts in ``hour`` (1-based) of the stay."""
        index = bisect.bisect_right([s.from_hour for s in self.steps], hour) - 1
        return self.steps[index].unit_vnd


@dataclass(frozen=True, slots=True)
class Tariff:
    code: str
    vehicle_class: VehicleClass
    bands: tuple[Band, ...]
    unit_minutes: int = 60
    first_block_minutes: int = 0
    daily_cap_vnd: int | None = None
    grace_minutes: int = 0
    max_stay_minutes: int | None = None
    utc_offset_minutes: int = VIETNAM_UTC_OFFSET_MINUTES
    _band_starts: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        label(self.code, "tariff code")
        choice(VehicleClass, self.vehicle_class, "vehicle_class")
        if not 0 < len(self.bands) <= MAX_BANDS:
            raise InvalidValue(f"a tariff has 1-{MAX_BANDS} bands")
        starts = tuple(b.starts_minute for b in self.bands)
        if list(starts) != sorted(set(starts)) or len({b.name for b in self.bands}) != len(self.bands):
            raise InvalidValue("bands must have distinct names and start at increasing times of day")
        _bounded(self.unit_minutes, "unit_minutes", MIN_UNIT_MINUTES, MINUTES_PER_DAY)
        _bounded(self.first_block_minutes, "first_block_minutes", 0, MINUTES_PER_DAY)
        priced_blocks = {b.first_block_vnd is not None for b in self.bands}
        if priced_blocks != {self.first_block_minutes > 0}:
            raise InvalidValue("every band prices the first block exactly when the tariff has one")
        if self.daily_cap_vnd is not None and checked_vnd(self.daily_cap_vnd, name="daily_cap_vnd") == 0:
            raise InvalidValue("a daily cap of 0 means free parking: give the units a price of 0 instead")
        _bounded(self.grace_minutes, "grace_minutes", 0, MINUTES_PER_DAY)
        if self.max_stay_minutes is not None:
            _bounded(self.max_stay_minutes, "max_stay_minutes", 1, MAX_STAY_MINUTES)
        _bounded(self.utc_offset_minutes, "utc_offset_minutes", -12 * 60, 14 * 60)
        object.__setattr__(self, "_band_starts", starts)

    @classmethod
    def per_visit(
        cls, code: str, vehicle_class: VehicleClass, bands: Mapping[time, tuple[str, int]], **options: Any
    ) -> Tariff:
        """A flat price per visit of up to a day (a new visit starts every 24 hours).

        ``bands`` maps a band's local start time to its name and its price per visit.
        """
        built = tuple(Band(name, at, (Step(1, price),)) for at, (name, price) in sorted(bands.items()))
        return cls(code, vehicle_class, built, unit_minutes=MINUTES_PER_DAY, **options)

    def band_at(self, at: datetime) -> Band:
        """The band a unit starting at ``at`` falls in (before the first band: the last one, from yesterday)."""
        local = at.astimezone(UTC) + timedelta(minutes=self.utc_offset_minutes)
        minute = local.hour * 60 + local.minute
        return self.bands[bisect.bisect_right(self._band_starts, minute) - 1]

    def max_stay(self) -> timedelta:
        return timedelta(minutes=self.max_stay_minutes or MAX_STAY_MINUTES)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "vehicle_class": self.vehicle_class.value,
            "unit_minutes": self.unit_minutes,
            "first_block_minutes": self.first_block_minutes,
            "daily_cap_vnd": self.daily_cap_vnd,
            "grace_minutes": self.grace_minutes,
            "max_stay_minutes": self.max_stay_minutes,
            "utc_offset_minutes": self.utc_offset_minutes,
            "bands": [
                {
                    "name": b.name,
                    "starts_at": b.starts_at.strftime("%H:%M"),
                    "first_block_vnd": b.first_block_vnd,
                    "steps": [{"from_hour": s.from_hour, "unit_vnd": s.unit_vnd} for s in b.steps],
                }
                for b in self.bands
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Tariff:
        """Load a tariff from its JSON form; unknown keys are refused (a typo is not a default)."""
        data = _only(data, _TARIFF_KEYS | {"bands", "code", "vehicle_class"}, "tariff")
        options = {k: data[k] for k in _TARIFF_KEYS if k in data}
        bands = data.get("bands")
        if not isinstance(bands, list) or len(bands) > MAX_BANDS:
            raise InvalidValue(f"bands must be a list of at most {MAX_BANDS}")
        return cls(
            data.get("code", ""),  # checked by __post_init__ like every other field
            choice(VehicleClass, data.get("vehicle_class"), "vehicle_class"),
            tuple(_band(b) for b in bands),
            **options,
        )


_TARIFF_KEYS = frozenset(
    {
        "unit_minutes",
        "first_block_minutes",
        "daily_cap_vnd",
        "grace_minutes",
        "max_stay_minutes",
        "utc_offset_minutes",
    }
)


def _only(data: object, keys: frozenset[str] | set[str], what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise InvalidValue(f"{what} must be an object")
    unknown = set(data) - keys
    if unknown:
        raise InvalidValue(f"{what} has unknown fields: {', '.join(sorted(map(str, unknown)))}")
    return data


def _band(data: object) -> Band:
    band = _only(data, {"name", "starts_at", "first_block_vnd", "steps"}, "band")
    try:
        starts_at = time.fromisoformat(band.get("starts_at", ""))
    except (TypeError, ValueError):
        raise InvalidValue(f"band starts_at must be HH:MM, got {band.get('starts_at')!r}") from None
    steps = band.get("steps")
    if not isinstance(steps, list) or len(steps) > MAX_STEPS:
        raise InvalidValue(f"band steps must be a list of at most {MAX_STEPS}")
    parsed = []
    for step in steps:
        fields = _only(step, {"from_hour", "unit_vnd"}, "step")
        parsed.append(Step(fields.get("from_hour", 0), fields.get("unit_vnd", -1)))
    return Band(band.get("name", ""), starts_at, tuple(parsed), band.get("first_block_vnd"))


@dataclass(frozen=True, slots=True)
class TariffChange:
    effective_from: datetime
    tariff: Tariff


@dataclass(frozen=True, slots=True)
class TariffSchedule:
    """The tariffs of one zone and vehicle class, each in force from its change until the next."""

    changes: tuple[TariffChange, ...]
    _froms: tuple[datetime, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.changes:
            raise InvalidValue("a tariff schedule needs at least one tariff")
        for change in self.changes:
            aware(change.effective_from, "effective_from")
        froms = [c.effective_from for c in self.changes]
        if any(a >= b for a, b in pairwise(froms)):
            raise InvalidValue("tariff changes must take effect at increasing times")
        if len({c.tariff.vehicle_class for c in self.changes}) != 1:
            raise InvalidValue("a tariff schedule is for one vehicle class")
        object.__setattr__(self, "_froms", tuple(froms))

    @classmethod
    def always(cls, tariff: Tariff) -> TariffSchedule:
        return cls((TariffChange(datetime.min.replace(tzinfo=UTC), tariff),))

    def in_force(self, at: datetime) -> Tariff:
        index = bisect.bisect_right(self._froms, aware(at)) - 1
        if index < 0:
            raise InvalidValue(f"no tariff is in force at {at.isoformat()}")
        return self.changes[index].tariff

    def then(self, effective_from: datetime, tariff: Tariff) -> TariffSchedule:
        """This schedule with one more change at its end."""
        return TariffSchedule((*self.changes, TariffChange(effective_from, tariff)))

    def latest_end(self, start: datetime) -> datetime:
        """The end of the longest stay the tariff in force at ``start`` allows."""
        return start + self.in_force(start).max_stay()

    def check_stay(self, start: datetime, end: datetime) -> None:
        if end > self.latest_end(start):
            limit = self.in_force(start).max_stay()
            raise InvalidValue(f"the stay would exceed the maximum stay of {limit}")
