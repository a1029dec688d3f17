"""Schemathesis with a larger budget than CI's: ``tests/integration/test_http_fuzz.py``
(every operation of the OpenAPI document the service serves at ``/openapi.json``, each
request signed by a client of a role the operation allows: no 5xx, every answer as the
document says) with ``FULL_EXAMPLES`` examples per operation instead of its 25, on a
store of this test's; then the auditor's checks on what the fuzzing left in the store
(``audit verify``, ``audit replay``) and the ledger's balance. ``make reliability`` runs
it (a row of its table); ``make test`` runs the fuzz module itself at CI's budget."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.reliability.checker import Verdict, check_audit, read_log
from tests.reliability.runs import full, record
from tests.support.cli import ROOT

pytestmark = pytest.mark.reliability
FULL_EXAMPLES = 50  # twice CI's 25; 100 took 9 min on this loaded machine; make reliability has 20 in all
FUZZ_TIMEOUT_S = 900


async def test_schemathesis_with_a_larger_budget_finds_no_5xx_and_leaves_a_sound_store(tmp_path: Path) -> None:
    if not full():
        pytest.skip("make reliability runs it; make test runs tests/integration/test_http_fuzz.py at CI's budget")
    store_url = f"sqlite:///{tmp_path / 'events.db'}"
    tally = tmp_path / "tally.jsonl"
    env = {
        **os.environ,
        "CITYSETTLE_FUZZ_EXAMPLES": str(FULL_EXAMPLES),
        "CITYSETTLE_FUZZ_STORE": store_url,
        "CITYSETTLE_FUZZ_TALLY": str(tally),
    }
    env.pop("CITYSETTLE_RELIABILITY_OUT", None)
    command = [sys.executable, "-m", "pytest", "tests/integration/test_http_fuzz.py", "-q", "-p", "no:randomly"]
    run = await asyncio.to_thread(
        subprocess.run, command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=FUZZ_TIMEOUT_S, check=False
    )
    answers = [json.loads(line) for line in tally.read_text().splitlines()] if tally.exists() else []
    statuses = Counter(a["status"] for a in answers)
    verdict = Verdict("schemathesis_sqlite")
    verdict.trials = len({a["operation"] for a in answers})
    verdict.attempts = len(answers)
    verdict.acknowledged = sum(n for status, n in statuses.items() if 200 <= status < 300)
    verdict.statuses = dict(sorted(statuses.items()))
    if run.returncode != 0:
        verdict.problems.append(f"schemathesis failed (exit {run.returncode}): {run.stdout[-3000:]}")
    if any(status >= 500 for status in statuses):
        verdict.problems.append(f"5xx answers: {statuses}")
    facts = await read_log(store_url)
    verdict.imbalance_vnd = sum(facts.debits.values()) - sum(facts.credits.values())
    if verdict.imbalance_vnd:
        verdict.problems.append(f"ledger imbalance {verdict.imbalance_vnd} VND")
    await check_audit(store_url, None, verdict)
    verdict.extra |= {
        "examples_per_operation": FULL_EXAMPLES,
        "ci_examples_per_operation": 25,
        "requests": len(answers),
        "events_written": facts.events,
        "summary": run.stdout.strip().splitlines()[-1] if run.stdout.strip() else "",
    }
    # schemathesis's requests are random: no reference model says which should have been
    # applied, so lost and applied twice are for the suites that have one
    record(verdict, not_modelled=("lost", "applied_twice"))
    assert verdict.ok, "\n".join(verdict.problems[:20])
