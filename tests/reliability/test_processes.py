"""Several processes: three ``citysettle serve`` on one PostgreSQL database
(`tests.reliability.processes`): a follower of the log never sees a gap, never two
projection runners at once, the runner's SIGKILL taken over by another server, a request
sent to two servers at once applied once and answered alike, and the checker's verdict."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.processes import processes_run
from tests.reliability.runs import assert_sound, full

pytestmark = pytest.mark.reliability


@pytest.mark.skipif(not full(), reason="make reliability only: make test keeps to a minute of reliability runs")
async def test_three_servers_on_one_database_keep_the_log_gapless_and_take_the_projections_over(
    pg_url: str, tmp_path: Path
) -> None:
    assert_sound(await processes_run("processes_postgres", pg_url, tmp_path, takeovers=4, seed=41))
