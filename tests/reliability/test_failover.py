"""Failover: the primary SIGKILLed under signed load, its synchronous standby promoted and
the service pointed at it (`tests.reliability.failover`). Every acknowledged operation is
there exactly once, ``audit verify`` and ``audit replay`` pass, the service goes on
appending; the auditor's commands read the standby (``--store`` at it) while it streams."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.failover import FailoverPlan, failover_run
from tests.reliability.runs import assert_sound, full

pytestmark = pytest.mark.reliability


# Its smallest run (one worker, 4.5 s of load) took 79-97 s on this machine under load:
# more than make test's minute of reliability runs.
@pytest.mark.skipif(not full(), reason="make reliability only: make test keeps to a minute of reliability runs")
async def test_a_promoted_synchronous_standby_has_every_acknowledged_event_and_goes_on(tmp_path: Path) -> None:
    plan = FailoverPlan(load_before_s=4.0, load_after_reads_s=2.0, load_after_s=3.0, workers=2)
    verdict = await failover_run("failover_postgres", tmp_path, plan)
    assert_sound(verdict)
    assert verdict.extra["standby_verify_exit"] == 0
    assert verdict.extra["head_at_end"] > verdict.extra["head_at_takeover"]
