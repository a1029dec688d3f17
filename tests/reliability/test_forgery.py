"""Forgery and bad input against a running service (`tests.reliability.forgery`): forged,
stale, replayed and unsigned requests, webhooks of every bank provider and e-tickets, a
corpus of malformed bodies, trickled bodies, and every route x every role; each refused,
none changing the store, and the genuine operations around them exactly as the model says."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.forgery import forgery_run
from tests.reliability.runs import assert_sound, full

pytestmark = pytest.mark.reliability


async def test_forged_and_malformed_requests_are_refused_and_change_nothing_on_sqlite(tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path / 'events.db'}"
    assert_sound(await forgery_run("forgery_sqlite", store_url, tmp_path, workers=1, stories=8 if full() else 2))


async def test_forged_and_malformed_requests_are_refused_and_change_nothing_on_postgres(
    tmp_path: Path, pg_url: str
) -> None:
    if not full():
        pytest.skip("make reliability runs it (two workers on PostgreSQL); make test runs the SQLite one")
    assert_sound(await forgery_run("forgery_postgres", pg_url, tmp_path, workers=2, stories=8))
