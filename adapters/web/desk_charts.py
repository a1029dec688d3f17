"""The finance desk's charts, drawn on the server as inline SVG (templates/finance/charts.html):
they need no JavaScript and print as sharply as the text. Geometry only, in whole pixels
of the SVG's own coordinate system; the template draws it and labels it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 560
HEIGHT = 220
LEFT = 48  # room for the axis labels
RIGHT = 20  # room for the last day's label
BOTTOM = 28
TOP = 12
PLOT_H = HEIGHT - TOP - BOTTOM


@dataclass(frozen=True, slots=True)
class Bar:
    x: int
    width: int
    matched_y: int
    matched_h: int
    exceptions_y: int
    exceptions_h: int
    label: str  # the day, for the title (tooltip) and the screen reader's table
    matched: int
    exceptions: int
    tick: str  # the day's axis label, on some days only


@dataclass(frozen=True, slots=True)
class Point:
    x: int
    y: int
    label: str
    bps: int


@dataclass(frozen=True, slots=True)
class Gridline:
    y: int
    label: str


def _nice_top(value: int) -> int:
    """The smallest 4, 8, 20 or 40 times a power of ten at or above ``value``: a top that
    four gridlines divide into whole numbers."""
    step = 4
    while True:
        for factor in (1, 2, 5, 10):
            if step * factor >= value:
                return step * factor
        step *= 10


def _tick(index: int, count: int, day: str) -> str:
    return day[5:] if index % 5 == (count - 1) % 5 else ""  # MM-DD every fifth day, the last one included


@dataclass(frozen=True, slots=True)
class BarChart:
    """Statement lines matched and exceptions found, per day, stacked."""

    bars: tuple[Bar, ...]
    grid: tuple[Gridline, ...]
    width: int = WIDTH
    height: int = HEIGHT

    @classmethod
    def of(cls, days: Sequence[tuple[str, int, int]]) -> BarChart:
        top = _nice_top(max((m + e for _, m, e in days), default=0))
        slot = (WIDTH - LEFT - RIGHT) // max(len(days), 1)
        bars = []
        for index, (day, matched, exceptions) in enumerate(days):
            matched_h = matched * PLOT_H // top
            exceptions_h = exceptions * PLOT_H // top
            base = TOP + PLOT_H
            bars.append(
                Bar(
                    x=LEFT + index * slot + 1, width=max(slot - 2, 1),
                    matched_y=base - matched_h, matched_h=matched_h,
                    exceptions_y=base - matched_h - exceptions_h, exceptions_h=exceptions_h,
                    label=day, matched=matched, exceptions=exceptions, tick=_tick(index, len(days), day),
                )
            )  # fmt: skip
        grid = tuple(Gridline(TOP + PLOT_H - PLOT_H * n // 4, str(top * n // 4)) for n in range(5))
        return cls(tuple(bars), grid)


@dataclass(frozen=True, slots=True)
class LineChart:
    """A share in basis points per day (a day without any payment has no point)."""

    points: tuple[Point, ...]
    grid: tuple[Gridline, ...]
    ticks: tuple[tuple[int, str], ...]
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def path(self) -> str:
        return " ".join(f"{p.x},{p.y}" for p in self.points)

    @classmethod
    def of(cls, days: Sequence[tuple[str, int | None]]) -> LineChart:
        slot = (WIDTH - LEFT - RIGHT) // max(len(days), 1)
        points = tuple(
            Point(LEFT + index * slot + slot // 2, TOP + PLOT_H - bps * PLOT_H // 10_000, day, bps)
            for index, (day, bps) in enumerate(days)
            if bps is not None
        )
        ticks = tuple(
            (LEFT + index * slot + slot // 2, tick)
            for index, (day, _) in enumerate(days)
            if (tick := _tick(index, len(days), day))
        )
        grid = tuple(Gridline(TOP + PLOT_H - PLOT_H * n // 4, f"{25 * n} %") for n in range(5))
        return cls(points, grid, ticks)
