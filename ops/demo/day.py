"""The demo day: a fixed date, labelled as such, so a seed always gives the same day.

The day is Tuesday 24 November 2026 in Hà Nội (UTC+7). A fixed date in the past lets the
demo close the day's settlement (a business day closes after its 23:00 cut-off) and keeps
every event of a seed identical from one run to the next. Everything the demo does is
dated on that day, or on the next morning for the finance office's work (reconciling the
day's statement, closing its settlement) — never by the wall clock.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

HANOI = timezone(timedelta(hours=7), "ICT")
DEMO_DAY = date(2026, 11, 24)
DEFAULT_SEED = 2026
DEFAULT_SIZE = 2_000  # fee invoices of the day; the other traffic scales with it
MIN_SIZE = 40


def hanoi(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), HANOI)


@dataclass(frozen=True, slots=True)
class DemoDay:
    """The day, its seed and its size: everything the demo's choices follow from."""

    seed: int = DEFAULT_SEED
    size: int = DEFAULT_SIZE
    day: date = DEMO_DAY

    def at(self, hour: int, minute: int = 0, second: int = 0) -> datetime:
        return hanoi(self.day, hour, minute, second)

    @property
    def set_up_at(self) -> datetime:
        """When the city registered its payees, catalogue, lots and clients: the evening before."""
        return hanoi(self.day - timedelta(days=1), 18, 0)

    @property
    def next_morning(self) -> datetime:
        return hanoi(self.day + timedelta(days=1), 7, 30)

    def rng(self, topic: str) -> random.Random:
        """A random source of its own per topic, so adding traffic of one kind never
        changes the draws of another."""
        digest = hashlib.sha256(f"citysettle-demo/{self.seed}/{topic}".encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))  # noqa: S311 (reproducible draws, not secrets)

    def secret(self, name: str) -> bytes:
        """32 bytes that follow from the seed (the demo's keys: never use them for real money)."""
        return hashlib.sha256(f"citysettle-demo-key/{self.seed}/{name}".encode()).digest()

    def moment(self, rnd: random.Random, start: datetime, end: datetime) -> datetime:
        """A whole second in ``[start, end)``."""
        return start + timedelta(seconds=rnd.randrange(int((end - start).total_seconds())))

    def office_hours(self, rnd: random.Random) -> datetime:
        """A moment when the ward's one-stop counter is open (07:30-11:30, 13:30-17:00)."""
        if rnd.random() < 0.55:
            return self.moment(rnd, self.at(7, 30), self.at(11, 30))
        return self.moment(rnd, self.at(13, 30), self.at(17, 0))
