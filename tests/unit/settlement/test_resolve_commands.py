"""The resolve commands a report offers (issue 9, item 9)."""

from __future__ import annotations

import shlex

from settlement.reconciliation.matching import reconcile
from settlement.reconciliation.resolve_commands import ResolveCommands
from settlement.statements.model import Direction, Entry, Statement
from tests.unit.settlement.test_runs import item, line

RUN = "0959297e-d306-5111-a315-230b861ed5c3"


def test_one_exact_command_per_allowed_resolution_and_none_for_settled_cases() -> None:
    result = reconcile(
        [Statement("camt.053", "001.08", "S1", "0011004455667", "VND", (), (line(1, 199_000),))], [item(1, 200_000)]
    )
    (case,) = result.cases
    commands = ResolveCommands(RUN, "sqlite:///var/my store.db", {"0011004455667"}).for_case(result, 1, case)
    assert [shlex.split(c)[7] for c in commands] == ["write_off", "refund"]
    assert shlex.split(commands[0]) == [
        *("citysettle", "resolve", "--run", RUN, "--case", "1", "--resolution", "write_off"),
        *("--reason", "REASON", "--by", "USER", "--store", "sqlite:///var/my store.db"),
    ]
    settled = Entry(5_000, "VND", Direction.CREDIT, booking_date=item(1, 1).booking_date, acct_svcr_ref="FT20260001")
    clean = reconcile([Statement("camt.053", "001.08", "S1", "0011004455667", "VND", (), (settled,))], [item(1, 5_000)])
    assert clean.cases == ()


def test_a_store_with_a_password_stays_in_the_environment_and_an_unknown_account_asks_for_its_bin() -> None:
    statement = Statement("camt.053", "001.08", "S1", "0099", "VND", (), (line(9, 50_000),))
    result = reconcile([statement], [])
    (case,) = result.cases
    secret = ResolveCommands(RUN, "postgresql://finance:s3cret@db/citysettle").for_case(result, 1, case)
    assert all("s3cret" not in c and "--store" not in c for c in secret)
    assert all(c.endswith("--account 0099=bank:BIN:0099") for c in secret)
    known = ResolveCommands(RUN, None, {"0099"}).for_case(result, 1, case)
    assert all("--account" not in c for c in known)
