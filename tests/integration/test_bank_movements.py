"""The bank movements projection gives the ledger side the whole log gives, on both stores.

The demo day (payments, late and repeated credits, cash deposits, settlement payouts, a
reconciliation with planted exceptions) is seeded by the real command; then every
period and account set is read both ways, before and after finance resolves the run's
exceptions (write-offs and refunds book transfers on the exception's day), and the
demo's statement is reconciled against both sides: the same run, case for case."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from domain.model.errors import DomainError
from domain.services.projections import ProjectionRunner
from domain.services.unit_of_work import UnitOfWork, execute
from ops.cli.audit import replay_projections
from ops.config import Config
from ops.demo.catalogue import PARKING_OPERATOR, PAYEE, WARD
from ops.demo.day import DEMO_DAY
from ops.projections import projections
from ops.stores import open_store
from settlement.reconciliation.bank_movements import read_day_side
from settlement.reconciliation.ledger_side import LedgerSide, read_ledger_side
from settlement.reconciliation.outcomes import MatchOptions
from settlement.reconciliation.runs import ReconciliationRun, Resolution, run_id_of
from settlement.reconciliation.statement_runs import match_statements, statements_of
from settlement.reconciliation.use_cases import paid_out_batches, resolve_exception
from settlement.statements import read_statement_file
from tests.support.cli import citysettle

DAYS = [DEMO_DAY + timedelta(days=n) for n in (-3, -1, 0, 1, 2)]


def _periods() -> list[tuple[Any, Any]]:
    return [(DEMO_DAY, DEMO_DAY), (DAYS[1], DAYS[3]), (DAYS[0], DAYS[4]), (DAYS[3], DAYS[3]), (DAYS[0], DAYS[1])]


def _account_sets() -> list[list[str] | None]:
    ward, parking = PAYEE[WARD].collection.account_no, PAYEE[PARKING_OPERATOR].collection.account_no
    return [None, [ward], [ward, parking], ["0000000000"]]


def _same(old: LedgerSide, new: LedgerSide) -> None:
    assert new.items == old.items
    assert new.balances == old.balances
    assert new.ledger_accounts == old.ledger_accounts
    assert new.last_position == old.last_position
    assert new.resolved == old.resolved
    wanted = {i.end_to_end_id for i in old.items if i.end_to_end_id is not None}
    assert new.payout_batches == {e: b for e, b in old.payout_batches.items() if e in wanted}


async def _compare_every_period(store: Any) -> int:
    compared = 0
    for first, last in _periods():
        for accounts in _account_sets():
            old = await read_ledger_side(store, first_day=first, last_day=last, accounts=accounts)
            new = await read_day_side(store, first_day=first, last_day=last, accounts=accounts)
            _same(old, new)
            compared += len(old.items)
    return compared


async def _resolve_what_can_be(store: Any, run_id: UUID) -> int:
    run = await UnitOfWork(store).get(ReconciliationRun, run_id)
    done = 0
    at = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
    for case in run.open_cases:
        for resolution in (Resolution.WRITE_OFF, Resolution.REFUND):
            try:
                use_case = resolve_exception(
                    run_id, case, resolution, reason="test", resolved_by="ke-toan.test", at=at + timedelta(minutes=case)
                )
                await execute(store, use_case)
            except DomainError:
                continue
            done += 1
            break
    return done


async def test_the_projection_gives_what_the_log_gives(store_url: str, tmp_path: Path) -> None:
    out = tmp_path / "demo"
    seeded = citysettle("demo", "--store", store_url, "--no-serve", "--size", "60", "--out", str(out))
    assert seeded.returncode == 0, seeded.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    statement_file = read_statement_file(io.BytesIO((out / summary["statement"]["file"]).read_bytes()))
    store = await open_store(Config(store_url=store_url), create=False)
    try:
        assert await _compare_every_period(store) > 100
        resolved = await _resolve_what_can_be(store, UUID(summary["reconciliation"]["run_id"]))
        assert resolved >= 2
        assert await _compare_every_period(store) > 100

        files = [statement_file]
        accounts = sorted({s.account for s in statements_of(files)})
        old = await read_ledger_side(store, first_day=DEMO_DAY, last_day=DEMO_DAY, accounts=accounts)
        new = await read_day_side(store, first_day=DEMO_DAY, last_day=DEMO_DAY, accounts=accounts)
        assert old.resolved, "the resolutions are there for the run to show"
        before = match_statements(files, DEMO_DAY, DEMO_DAY, old, MatchOptions())
        after = match_statements(files, DEMO_DAY, DEMO_DAY, new, MatchOptions())
        assert after.result == before.result
        assert any(case.settled for case in after.result.cases)
        identities = before.identities
        assert run_id_of(after.result, identities, DEMO_DAY, DEMO_DAY, new.last_position) == run_id_of(
            before.result, identities, DEMO_DAY, DEMO_DAY, old.last_position
        )
        assert paid_out_batches(after.result, new.payout_batches, identities) == paid_out_batches(
            before.result, old.payout_batches, identities
        )
        for projection in projections():  # the resolutions moved the log on
            await ProjectionRunner(store, store, projection).catch_up()
    finally:
        await store.close()
    said = io.StringIO()  # `audit replay` rebuilds it like the others, and finds it identical
    assert await replay_projections(Config(store_url=store_url), said) == 0, said.getvalue()
    (found,) = [p for p in json.loads(said.getvalue())["projections"] if p["name"] == "bank_movements"]
    assert found["identical"]
    assert found["rows"] > 100
