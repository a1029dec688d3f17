"""Bank transaction ids seen again, on both stores: per (bank BIN, account, id)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.eventstore.sqlite import SqliteEventStore
from domain.model.ledger import PartyKind, bank_clearing, payable, refunds_payable, suspense
from domain.model.payments import PaymentPurpose
from domain.services.fees import get_invoice, issue_fee_invoice, settle_invoice_on_payment
from domain.services.ledger_entries import LedgerEntries, count_key, entry_key
from domain.services.payments import BankNotice, CollectionAccount, credit_bank_transfer
from domain.services.projections import ProjectionRunner
from domain.services.unit_of_work import UnitOfWork, execute
from tests.support.catalogue import CATALOGUE, TREASURY
from tests.support.ledger import posted_balances

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
ON_PAID = {PaymentPurpose.FEE_INVOICE: settle_invoice_on_payment}
AGENCY = payable(PartyKind.AGENCY, "so-tu-phap")
OTHER_BANK = CollectionAccount("970415", "1140000077", "KHO BAC HA NOI TAI VIETINBANK")
SAME_BANK = CollectionAccount(TREASURY.bank_bin, "0011009988776", "KHO BAC HA NOI TK 2")


async def issue(store: Any, no: str, channel: str = "counter") -> str:
    use_case = issue_fee_invoice(
        CATALOGUE,
        invoice_no=no,
        payer_id="001099012345",
        service_code="LLTP-01",
        channel=channel,
        collection=TREASURY,
        at=T0,
    )
    return str((await execute(store, use_case)).result["payment"]["reference"])


async def notify(store: Any, to: CollectionAccount, tx: str, amount_vnd: int, note: str) -> dict[str, Any]:
    notice = BankNotice(to.bank_bin, to.account_no, tx, amount_vnd, note, T0 + timedelta(minutes=1))
    return (await execute(store, credit_bank_transfer(notice, T0 + timedelta(minutes=1), ON_PAID))).result


async def suspense_kinds(store: Any) -> list[str]:
    """What finance sees on the suspense account: its entries' kinds, in order."""
    await ProjectionRunner(store, store, LedgerEntries()).catch_up()
    count = (await store.get_rows(LedgerEntries.name, [count_key(suspense())])).get(count_key(suspense()), 0)
    keys = [entry_key(suspense(), n) for n in range(1, count + 1)]
    rows = await store.get_rows(LedgerEntries.name, keys)
    return [rows[k]["kind"] for k in keys]


async def test_the_same_transaction_id_at_two_banks_credits_both_accounts(store: Any) -> None:
    reference = await issue(store, "HS-R1")
    first = await notify(store, TREASURY, "FT26327001", 120_000, reference)
    second = await notify(store, OTHER_BANK, "FT26327001", 80_000, f"{reference} phan con lai")
    assert (first["outcome"], second["outcome"], second["duplicate"], second["flag"]) == (
        "partial",
        "exact",
        False,
        None,
    )
    assert (await get_invoice("HS-R1")(UnitOfWork(store)))["status"] == "paid"
    other = bank_clearing(OTHER_BANK.bank_bin, OTHER_BANK.account_no)
    assert await posted_balances(store, other, AGENCY, suspense()) == {other: 80_000, AGENCY: 200_000, suspense(): 0}
    again = await notify(store, OTHER_BANK, "FT26327001", 80_000, reference)
    assert (again["duplicate"], again["flag"]) == (True, None)


async def test_the_same_id_with_another_amount_is_recorded_in_suspense_and_flagged(store: Any) -> None:
    reference = await issue(store, "HS-R2")
    await notify(store, TREASURY, "FT26327002", 200_000, reference)
    conflict = await notify(store, TREASURY, "FT26327002", 150_000, reference)
    assert (conflict["duplicate"], conflict["outcome"], conflict["flag"], conflict["amount_vnd"]) == (
        False,
        "repeated_id",
        "amount_differs",
        150_000,
    )
    head = await store.head()
    repeat = await notify(store, TREASURY, "FT26327002", 150_000, reference)
    assert (repeat["duplicate"], repeat["flag"]) == (True, "amount_differs")
    assert await store.head() == head, "a conflicting notice delivered twice is recorded once"
    bank = bank_clearing(TREASURY.bank_bin, TREASURY.account_no)
    assert await posted_balances(store, bank, AGENCY, suspense()) == {
        bank: 350_000,
        AGENCY: 200_000,
        suspense(): 150_000,
    }
    assert await suspense_kinds(store) == ["bank_credit.repeated_id.amount_differs"]


async def test_the_same_id_on_another_account_at_the_same_bank_is_recorded_in_suspense_and_flagged(
    store: Any,
) -> None:
    paid = await issue(store, "HS-R3")
    await notify(store, TREASURY, "FT26327003", 200_000, paid)
    unpaid = await issue(store, "HS-R4")
    flagged = await notify(store, SAME_BANK, "FT26327003", 200_000, unpaid)
    assert (flagged["duplicate"], flagged["outcome"], flagged["flag"]) == (False, "repeated_id", "other_account")
    assert flagged["payment"]["status"] == "pending", "no payment is credited with it"
    assert (await get_invoice("HS-R4")(UnitOfWork(store)))["status"] == "issued"
    second = bank_clearing(SAME_BANK.bank_bin, SAME_BANK.account_no)
    assert await posted_balances(store, second, suspense()) == {second: 200_000, suspense(): 200_000}
    assert await suspense_kinds(store) == ["bank_credit.repeated_id.other_account"]
    again = await notify(store, SAME_BANK, "FT26327003", 200_000, unpaid)
    assert (again["duplicate"], again["outcome"], again["flag"]) == (True, "repeated_id", "other_account")


ACCOUNTS = (TREASURY, OTHER_BANK, SAME_BANK)
notices = st.lists(
    st.tuples(
        st.sampled_from(range(len(ACCOUNTS))),
        st.sampled_from(["FT1", "FT2", "FT3"]),
        st.sampled_from([50_000, 150_000, 200_000]),
        st.sampled_from([0, 1, None]),  # the invoice whose reference the note carries, or none
    ),
    min_size=1,
    max_size=10,
)


@settings(max_examples=30, deadline=None)
@given(notices)
def test_every_notice_is_recorded_once_and_only_repeats_are_duplicates(
    tmp_path_factory: pytest.TempPathFactory, sequence: list[tuple[int, str, int, int | None]]
) -> None:
    asyncio.run(_check_notices(tmp_path_factory.mktemp("notices"), sequence))


async def _check_notices(directory: Path, sequence: list[tuple[int, str, int, int | None]]) -> None:
    store = await SqliteEventStore.open(f"sqlite:///{directory}/events.db")
    try:
        references = [await issue(store, "HS-P0"), await issue(store, "HS-P1")]
        seen: dict[tuple[str, str, str], set[int]] = {}
        recorded_vnd = 0
        for account, tx, amount, invoice in sequence:
            to = ACCOUNTS[account]
            note = "chuyen tien" if invoice is None else references[invoice]
            answer = await notify(store, to, tx, amount, note)
            amounts = seen.setdefault((to.bank_bin, to.account_no, tx), set())
            assert answer["duplicate"] is (amount in amounts), (to, tx, amount, answer)
            recorded_vnd += 0 if amount in amounts else amount
            amounts.add(amount)
        clearing = [bank_clearing(a.bank_bin, a.account_no) for a in ACCOUNTS]
        owed = (AGENCY, refunds_payable(), suspense())
        totals = await posted_balances(store, *clearing, *owed)
        assert sum(totals[c] for c in clearing) == recorded_vnd, "every notice not a duplicate moved its money once"
        assert sum(totals[o] for o in owed) == recorded_vnd, "the ledger balances"
        assert totals[AGENCY] <= 2 * 200_000, "no invoice is paid to the agency twice"
    finally:
        await store.close()
