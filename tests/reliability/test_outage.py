"""Database outage: a PostgreSQL server of the test's own stopped, and frozen, under load
(`tests.reliability.outage`). The service answers 503 with Retry-After meanwhile, /readyz
says not ready, it is ready again within 5 s of the database's return, and nothing
acknowledged is lost or applied twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.outage import OutagePlan, outage_run
from tests.reliability.runs import assert_sound, full

pytestmark = pytest.mark.reliability


async def test_a_stopped_or_frozen_database_is_503_then_recovered_and_nothing_is_lost(tmp_path: Path) -> None:
    plan = OutagePlan(stops=4, freezes=4) if full() else OutagePlan(stops=1, freezes=1, down_s=3.0, workers=1)
    assert_sound(await outage_run("outage_postgres", tmp_path, plan))
