"""Concurrency: 100 concurrent writers (20 in ``make test``) on one wallet, one payment and one parking session,
through ``serve --workers 2`` on PostgreSQL and ``serve`` on SQLite (`runs.contention_run`).
No update is lost, nothing is applied twice, the ledger balances; a conflict the service
cannot resolve within its bounded retries is a 409 with Retry-After, which the clients
retry with the same key."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.runs import assert_sound, contention_run, full

pytestmark = pytest.mark.reliability


async def test_100_writers_on_one_wallet_payment_and_session_through_two_workers_on_postgresql(
    pg_url: str, tmp_path: Path
) -> None:
    assert_sound(await contention_run("concurrency_postgres", pg_url, tmp_path, workers=2, seed=31))


@pytest.mark.skipif(not full(), reason="make reliability only: make test keeps to a minute of reliability runs")
async def test_100_writers_on_one_wallet_payment_and_session_on_sqlite(tmp_path: Path) -> None:
    assert_sound(await contention_run("concurrency_sqlite", f"sqlite:///{tmp_path}/events.db", tmp_path, 1, 32))
