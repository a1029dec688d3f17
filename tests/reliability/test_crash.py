"""Crash: ``citysettle serve`` SIGKILLed at random moments under signed load, and started
again; clients retry with the same keys. Nothing acknowledged is lost, nothing is applied
twice, the ledger balances, and the auditor's tools find the log intact (`runs`).

Fast here (a few kills, ``make test``); ``make reliability`` runs them at full size."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.runs import Plan, assert_sound, crash_run, full

pytestmark = pytest.mark.reliability


async def test_kills_of_two_workers_on_postgresql_lose_nothing_and_apply_nothing_twice(
    pg_url: str, tmp_path: Path
) -> None:
    plan = Plan(kills=24, workers=2, seed=11) if full() else Plan(kills=2, workers=2, seed=11, pattern="wa")
    assert_sound(await crash_run("crash_postgres", pg_url, tmp_path, plan))


async def test_kills_of_one_process_on_sqlite_lose_nothing_and_apply_nothing_twice(tmp_path: Path) -> None:
    plan = Plan(kills=20 if full() else 2, workers=1, seed=12)
    assert_sound(await crash_run("crash_sqlite", f"sqlite:///{tmp_path}/events.db", tmp_path, plan))
