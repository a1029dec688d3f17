"""A store with a long history and one day to reconcile, loaded in bulk (issue 14, item 1).

The events are the store's own: `BankCredit.Received` and the `Transfer.Posted` that
hands the credit to its payee (what a bank notification writes), and parking cash
transfers that touch no bank account, made by the aggregates and appended through the
store's `append` (hash chain and all) in batches of `BATCH`, without the use cases'
reads, which would take hours for millions of events. History days come before the
reconciled day (`tests.support.statements.DAY`), `PER_DAY` payments a day; the day
itself is the same in every store, and so is its camt.053.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.eventstore.sqlite import SqliteEventStore
from domain.model.ledger import PartyKind, bank_clearing, cash, credit, debit, payable
from domain.model.payments import BankCredit, CreditOutcome
from domain.model.transfers import Transfer
from domain.services.projections import ProjectionRunner
from settlement.reconciliation.bank_movements import CATCH_UP_PAGE, BankMovements
from tests.support.statements import ACCOUNT_NO, DAY, GenLine, write_camt053

BANK_BIN = "970436"
OTHER_ACCOUNT = "0011009988776"  # a second collection account, not on the statement
PER_DAY = 20_000  # payments a history day: 2 events each, plus one cash transfer in ten
BATCH = 2_000
AGENCIES = [payable(PartyKind.AGENCY, f"ward-{n:02d}") for n in range(20)]


def _payment(rng: random.Random, account: str, tx_id: str, at: datetime) -> tuple[list[Any], int]:
    amount = rng.randrange(1, 500) * 1_000
    received = BankCredit.receive(
        bank_bin=BANK_BIN,
        account_no=account,
        bank_tx_id=tx_id,
        amount_vnd=amount,
        note=f"thanh toan {tx_id}",
        booked_at=at,
        payment_reference=None,
        outcome=CreditOutcome.UNMATCHED,
        at=at,
    )
    entries = [debit(bank_clearing(BANK_BIN, account), amount), credit(rng.choice(AGENCIES), amount)]
    posted = Transfer.post(f"bank-credit:{received.id}", "bank_credit.exact", entries, at)
    return [*received.collect_events(), *posted.collect_events()], amount


def _cash(rng: random.Random, n: int, at: datetime) -> list[Any]:
    amount = rng.randrange(1, 100) * 1_000
    operator = f"operator-{n % 5}"
    entries = [debit(cash(operator), amount), credit(payable(PartyKind.OPERATOR, operator), amount)]
    return list(Transfer.post(f"bench:cash:{n}", "parking.cash", entries, at).collect_events())


def _instant(day_offset: int, n: int, per_day: int) -> datetime:
    """Within the bank's business hours of DAY + day_offset (Vietnam, UTC+7)."""
    start = datetime(DAY.year, DAY.month, DAY.day, 1, 0, tzinfo=UTC) + timedelta(days=day_offset)
    return start + timedelta(seconds=n * 36_000 // max(per_day, 1))


async def load(url: str, history_events: int, day_payments: int, statement: Path | None) -> dict[str, Any]:
    """Fill a new store: the history, then the day; write the day's statement if asked."""
    rng = random.Random(14)
    store = await SqliteEventStore.open(url)
    try:
        batch: list[Any] = []
        written = 0
        opening = 0

        async def flush(force: bool = False) -> None:
            nonlocal batch, written
            if batch and (force or len(batch) >= BATCH):
                await store.append(batch)
                written += len(batch)
                batch = []

        payments = history_events * 10 // 21  # 2 events a payment and one cash transfer in ten
        days = max((payments + PER_DAY - 1) // PER_DAY, 1)
        for n in range(payments):
            day, within = divmod(n, PER_DAY)
            at = _instant(day - days, within, PER_DAY)
            account = ACCOUNT_NO if n % 4 else OTHER_ACCOUNT
            events, amount = _payment(rng, account, f"FTH{n:010d}", at)
            batch.extend(events)
            opening += amount if account == ACCOUNT_NO else 0
            if n % 10 == 0:
                batch.extend(_cash(rng, n, at))
            await flush()
        lines = []
        rng = random.Random(15)  # the day is the same whatever came before it
        for n in range(day_payments):
            at = _instant(0, n, day_payments)
            account = ACCOUNT_NO if n % 4 else OTHER_ACCOUNT
            tx_id = f"FTD{n:010d}"
            events, amount = _payment(rng, account, tx_id, at)
            batch.extend(events)
            if account == ACCOUNT_NO:
                lines.append(GenLine(amount, "CRDT", acct_svcr_ref=tx_id, remittance=f"thanh toan {tx_id}"))
            await flush()
        await flush(force=True)
        await ProjectionRunner(store, store, BankMovements(), page_size=CATCH_UP_PAGE).catch_up()
        if statement is not None:
            with statement.open("w", encoding="utf-8") as out:
                write_camt053(out, lines, opening_vnd=opening, statement_id="HISTORY")
        return {"events": written, "history_days": days, "day_lines": len(lines)}
    finally:
        await store.close()
