"""Service days and checked identifiers shared by tickets and fare capping.

A service day is the transit operators' day, not the calendar day: buses run past
midnight, so a ride at 01:30 local time still belongs to the day before. Vietnam keeps
UTC+7 all year (no daylight saving), so a fixed offset is exact and needs no tz database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

from domain.model.errors import InvalidValue

SERVICE_TZ = timezone(timedelta(hours=7), "ICT")
SERVICE_DAY_STARTS = time(3, 0)  # the last night buses are back in the depot by then
_DAY_OFFSET = timedelta(hours=SERVICE_DAY_STARTS.hour, minutes=SERVICE_DAY_STARTS.minute)
ID_MAX_CHARS = 64


def checked_time(at: datetime, *, name: str = "at") -> datetime:
    """Refuse naive datetimes: a naive time is ambiguous between UTC and local time."""
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise InvalidValue(f"{name} must be a timezone-aware datetime")
    return at


def checked_id(value: object, *, name: str, max_chars: int = ID_MAX_CHARS) -> str:
    """An identifier that can also name a ledger account part (no ':')."""
    if not isinstance(value, str) or not 0 < len(value) <= max_chars or ":" in value or not value.isprintable():
        raise InvalidValue(f"{name} must be 1-{max_chars} printable characters without ':'")
    return value


def checked_text(value: object, name: str, max_chars: int) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= max_chars or not value.isprintable():
        raise InvalidValue(f"{name} must be 1-{max_chars} printable characters")
    return value


def service_day(at: datetime) -> date:
    """The service day that ``at`` belongs to."""
    return (checked_time(at).astimezone(SERVICE_TZ) - _DAY_OFFSET).date()


def service_day_start(day: date) -> datetime:
    """The instant (UTC) at which service day ``day`` begins."""
    return (datetime.combine(day, SERVICE_DAY_STARTS, tzinfo=SERVICE_TZ)).astimezone(UTC)
