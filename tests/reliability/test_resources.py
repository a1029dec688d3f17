"""Resource outages under load (`tests.reliability.resources`): the disk of a SQLite store
full (a tmpfs of the test's own), and a PostgreSQL server of the test's own out of
connection slots. Refused writes are 503 problems with Retry-After, none acknowledged
that was not written, writes acknowledged again within 5 s of the resource's return,
nothing acknowledged lost or applied twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.resources import SqueezePlan, can_mount, connections_run, disk_run
from tests.reliability.runs import assert_sound, full

pytestmark = pytest.mark.reliability


async def test_a_full_disk_refuses_writes_with_503_and_loses_nothing(tmp_path: Path) -> None:
    why = can_mount()
    if why is not None:
        pytest.skip(why)
    plan = SqueezePlan(trials=4) if full() else SqueezePlan(trials=1, down_s=2.0)
    assert_sound(await disk_run("outage_disk_sqlite", tmp_path, plan))


async def test_the_connection_limit_reached_is_503_then_recovered(tmp_path: Path) -> None:
    plan = SqueezePlan(trials=4, workers=2) if full() else SqueezePlan(trials=1, down_s=2.0, workers=2, seed=42)
    assert_sound(await connections_run("outage_connections_postgres", tmp_path, plan))
