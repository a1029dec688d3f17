"""The desk's charts: geometry in whole pixels that stays inside the drawing, and the
Vietnamese number formats of its labels."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from adapters.web.desk import percent, reason_vnd
from adapters.web.desk_charts import HEIGHT, LEFT, TOP, WIDTH, BarChart, LineChart

DAYS = [f"2026-11-{d:02d}" for d in range(1, 31)]


@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)), min_size=30, max_size=30))
def test_bars_stack_inside_the_plot_and_the_tallest_fits(counts: list[tuple[int, int]]) -> None:
    chart = BarChart.of([(day, m, e) for day, (m, e) in zip(DAYS, counts, strict=True)])
    top = int(chart.grid[-1].label)
    assert top >= max(m + e for m, e in counts)
    for bar in chart.bars:
        assert bar.x >= LEFT
        assert bar.x + bar.width <= WIDTH
        assert TOP <= bar.exceptions_y <= bar.matched_y <= HEIGHT
        assert bar.exceptions_y + bar.exceptions_h == bar.matched_y
    assert chart.grid[0].label == "0"


def test_an_empty_month_still_has_an_axis() -> None:
    chart = BarChart.of([(day, 0, 0) for day in DAYS])
    assert [g.label for g in chart.grid] == ["0", "1", "2", "3", "4"]
    assert all(b.matched_h == b.exceptions_h == 0 for b in chart.bars)
    assert [b.tick for b in chart.bars if b.tick][-1] == "11-30", "the last day is labelled"


def test_days_without_payments_have_no_point() -> None:
    chart = LineChart.of([(day, 7990 if n % 2 else None) for n, day in enumerate(DAYS)])
    assert len(chart.points) == 15
    assert all(p.bps == 7990 for p in chart.points)
    assert chart.path.count(",") == 15
    full = LineChart.of([(DAYS[0], 10_000), (DAYS[1], 0)])
    assert full.points[0].y == TOP
    assert full.points[1].y > full.points[0].y


def test_percent_and_amounts_are_written_the_vietnamese_way() -> None:
    assert percent(7990) == "79,9\u00a0%"
    assert percent(0) == "0,0\u00a0%"
    assert percent(10_000) == "100,0\u00a0%"
    assert reason_vnd("bank 199000 VND, ledger 200000 VND (difference -1000 VND)") == (
        "bank 199.000\u00a0₫, ledger 200.000\u00a0₫ (difference -1.000\u00a0₫)"
    )
    assert reason_vnd("12.34 EUR") == "12.34 EUR"
