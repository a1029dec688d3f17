"""The ledger side read from the log, through a hand-written fake of the EventStore port."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.utils import get_topic

from domain.model.ledger import PartyKind, bank_clearing, credit, debit, payable, suspense
from domain.model.payments import BankCredit, CreditOutcome, bank_credit_id
from domain.model.transfers import Transfer
from domain.ports import LogRecord
from settlement.reconciliation.ledger_side import read_ledger_side
from settlement.reconciliation.outcomes import Category
from settlement.reconciliation.runs import Resolution
from settlement.statements import Direction
from tests.unit.settlement.test_runs import item, line, run_of

BANK = bank_clearing("970436", "0011004455667")
OTHER = bank_clearing("970436", "999")


class FakeLog:
    """Only what `read_ledger_side` uses: ``read_log`` pages and ``decode``."""

    def __init__(self, events: Sequence[DomainEventProtocol[UUID]]) -> None:
        self.events = list(events)
        self.pages = 0

    async def read_log(self, after_position: int, limit: int) -> list[LogRecord]:
        self.pages += 1
        chunk = self.events[after_position : after_position + limit]
        return [
            LogRecord(after_position + i + 1, e.originator_id, e.originator_version, get_topic(type(e)), b"", b"")
            for i, e in enumerate(chunk)
        ]

    def decode(self, record: LogRecord) -> DomainEventProtocol[UUID]:
        return self.events[record.position - 1]


def _credit(tx: str, amount: int, booked: datetime, reference: str | None) -> list[DomainEventProtocol[UUID]]:
    received = BankCredit.receive(
        bank_bin="970436",
        account_no="0011004455667",
        bank_tx_id=tx,
        amount_vnd=amount,
        note="x",
        booked_at=booked,
        payment_reference=reference,
        outcome=CreditOutcome.EXACT,
        at=booked,
    )
    transfer = Transfer.post(
        f"bank-credit:{bank_credit_id('970436', '0011004455667', tx)}",
        "bank_credit.exact",
        [debit(BANK, amount), credit(payable(PartyKind.AGENCY, "so-tu-phap"), amount)],
        booked,
    )
    return [*received.collect_events(), *transfer.collect_events()]


async def test_items_balances_and_paging() -> None:
    # 23:30 UTC on the 22nd is 06:30 on the 23rd in Vietnam: the bank books it on the 23rd.
    events = [
        *_credit("FT-OLD", 50_000, datetime(2026, 11, 21, 3, tzinfo=UTC), None),
        *_credit("FT-1", 200_000, datetime(2026, 11, 22, 23, 30, tzinfo=UTC), "CS0400000000000C"),
        *Transfer.post(
            "refund:1", "refund", [debit(suspense(), 7_000), credit(BANK, 7_000)], datetime(2026, 11, 23, 4, tzinfo=UTC)
        ).collect_events(),
        *Transfer.post(
            "elsewhere", "x", [debit(OTHER, 1_000), credit(suspense(), 1_000)], datetime(2026, 11, 23, 4, tzinfo=UTC)
        ).collect_events(),
        *_credit("FT-LATE", 9_000, datetime(2026, 11, 24, 3, tzinfo=UTC), None),
    ]
    log = FakeLog(events)
    side = await read_ledger_side(
        log,
        first_day=date(2026, 11, 23),
        last_day=date(2026, 11, 23),
        accounts=["0011004455667"],
        page_size=2,
    )
    assert log.pages == len(events) // 2 + 1
    assert [(i.direction, i.amount_minor, i.bank_tx_id, i.payment_reference) for i in side.items] == [
        (Direction.CREDIT, 200_000, "FT-1", "CS0400000000000C"),
        (Direction.DEBIT, 7_000, None, None),
    ]
    assert {i.booking_date for i in side.items} == {date(2026, 11, 23)}
    balance = side.balances["0011004455667"]
    assert (balance.opening_minor, balance.closing_minor) == (50_000, 50_000 + 200_000 - 7_000)
    assert "999" not in side.balances


async def test_a_resolutions_transfer_is_an_item_of_the_exceptions_day_set_aside_for_its_case() -> None:
    run = run_of([line(1, 199_000)], [item(1, 200_000)])  # an exception of 23 November
    decided = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    assert run.exceptions[1]["category"] == Category.AMOUNT_MISMATCH.value
    run.resolve(1, Resolution.WRITE_OFF, "NAPAS fee", "ketoan.nguyen", "reconciliation:k1", decided)
    write_off = Transfer.post(
        "reconciliation:k1", "reconciliation.write_off", [debit(suspense(), 1), credit(BANK, 1)], decided
    )
    log = FakeLog([*run.collect_events(), *write_off.collect_events()])
    side = await read_ledger_side(log, first_day=date(2026, 11, 23), last_day=date(2026, 11, 23))
    (booked,) = side.items
    assert (booked.booking_date, booked.resolves, booked.direction) == (
        date(2026, 11, 23),
        "reconciliation:k1",
        Direction.DEBIT,
    )
    (description,) = side.resolved.values()
    assert description.startswith("write_off by ketoan.nguyen at 2026-12-01 03:00 UTC, booked on 2026-11-23")
    later = await read_ledger_side(log, first_day=date(2026, 12, 1), last_day=date(2026, 12, 1))
    assert later.items == ()
    assert later.balances["0011004455667"].opening_minor == -1
