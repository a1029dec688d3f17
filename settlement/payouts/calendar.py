"""Which settlement day a movement belongs to, and when that day is paid out.

Business days are Vietnamese calendar days (UTC+7, no daylight saving). A movement
booked before the cut-off time belongs to that day, at or after it to the next day;
a day's collections are paid out ``payout_lag_days`` later (T+1 by default).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone

VIETNAM_TZ = timezone(timedelta(hours=7), "ICT")


@dataclass(frozen=True, slots=True)
class SettlementCalendar:
    cutoff: time = time(23, 0)
    payout_lag_days: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.payout_lag_days <= 10:
            raise ValueError("payout lag must be 0-10 days")

    def business_date(self, at: datetime) -> date:
        if at.tzinfo is None:
            raise ValueError("times must be timezone-aware")
        local = at.astimezone(VIETNAM_TZ)
        day = local.date()
        return day + timedelta(days=1) if local.timetz().replace(tzinfo=None) >= self.cutoff else day

    def window(self, business_date: date) -> tuple[datetime, datetime]:
        """The half-open UTC interval [start, end) of movements that belong to the day."""
        end_local = datetime.combine(business_date, self.cutoff, VIETNAM_TZ)
        return (end_local - timedelta(days=1)).astimezone(UTC), end_local.astimezone(UTC)

    def payout_date(self, business_date: date) -> date:
        return business_date + timedelta(days=self.payout_lag_days)
