"""Property: whatever the order of collections, refunds, reversals, deposits, cut-off
changes and batch closes, every payable posting is paid at most once, and once every
day is settled each payee has been paid what it is owed, net of negatives it carries and
of cash its attendants have not banked; the ledger balances throughout. On both stores.

Each example works on payees of its own (a fee agency, a parking operator) in the one
store the test gets, so examples do not see each other's money.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from random import Random
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.model.fees import FeeCatalogue
from domain.model.ledger import AccountKind, PartyKind, Side, payable
from domain.model.parking import Arrival, BookingRequest, Channel, PaymentMethod, Spaces, Tariff, VehicleClass
from domain.services.cash_deposits import RecordCashDeposit, record_cash_deposit
from domain.services.fees import cancel_fee_invoice, issue_fee_invoice, refund_fee_invoice
from domain.services.parking import (
    EndSession,
    RegisterLot,
    ScheduleTariff,
    StartSession,
    end_session,
    register_lot,
    schedule_tariff,
    start_session,
)
from domain.services.parking_reservations import CloseReservation, MakeReservation, make_reservation, mark_no_show
from domain.services.payment_purposes import ON_PAID
from domain.services.payments import BankNotice, credit_bank_transfer
from domain.services.postings import Movement, read_ledger_event
from domain.services.unit_of_work import UseCase, execute
from settlement.payouts.batches import SettlementBatch
from settlement.payouts.calendar import VIETNAM_TZ, SettlementCalendar
from settlement.payouts.pain001 import BankAccount
from settlement.payouts.payables import PAYOUT_KIND
from settlement.payouts.use_cases import NothingToPay, close_settlement_batch, record_batch_returned
from tests.support.ledger import posted_balances
from tests.support.parking import CAR_TARIFF, CITY
from tests.support.settlement import claim_for
from tests.support.views import FakeView
from tests.support.wallets import top_up

BASE = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 08:00 in Hanoi
FIRST_DAY = BASE.astimezone(VIETNAM_TZ).date()
CLOSING_AT = BASE + timedelta(days=60)  # every business day of an example is past its cut-off by then
CUTOFFS = [time(23, 0), time(23, 59), time(17, 30), time(0, 0)]
PAYING = BankAccount(CITY.bank_bin, CITY.account_no, CITY.name)
EXAMPLES = itertools.count()

Step = tuple[Any, ...]
_collect = st.one_of(
    st.tuples(st.just("fee"), st.sampled_from(["counter", "online"])),
    st.tuples(st.just("wallet_stay")),
    st.tuples(st.just("cash_stay")),
    st.tuples(st.just("no_show")),
)
_close = st.tuples(st.just("close"), st.booleans(), st.integers(0, 4), st.sampled_from(CUTOFFS))
steps = st.lists(
    st.one_of(
        _collect,
        _collect,
        _close,
        _close,
        st.tuples(st.just("cancel_online")),  # an online invoice's subsidy posted, then reversed
        st.tuples(st.just("refund"), st.integers(0, 5)),  # the next day: a day of refunds nets negative
        st.tuples(st.just("refund"), st.integers(0, 5)),
        st.tuples(st.just("deposit"), st.integers(1, 100)),  # percent of the cash still held
        st.tuples(st.just("return"), st.integers(0, 5)),
        st.tuples(st.just("wait"), st.integers(1, 30)),  # hours
        st.tuples(st.just("wait"), st.integers(1, 30)),
    ),
    min_size=3,
    max_size=16,
)


@dataclass
class World:
    """One example's payees, what it did, and the postings the log holds (read independently)."""

    store: Any
    n: int
    clock: datetime = BASE
    invoices: list[tuple[str, int]] = field(default_factory=list)  # paid, not refunded: number, paid by the payer
    batches: list[UUID] = field(default_factory=list)
    returned: set[UUID] = field(default_factory=set)
    seq: itertools.count[int] = field(default_factory=itertools.count)
    view: FakeView = field(default_factory=FakeView)
    position: int = 0
    movements: list[Movement] = field(default_factory=list)

    @property
    def agency_id(self) -> str:
        return f"ag-{self.n}"

    @property
    def operator_id(self) -> str:
        return f"op-{self.n}"

    @property
    def payees(self) -> tuple[str, str]:
        return payable(PartyKind.AGENCY, self.agency_id), payable(PartyKind.OPERATOR, self.operator_id)

    def name(self, what: str) -> str:
        return f"{what}-{self.n}-{next(self.seq)}"

    async def run(self, use_case: UseCase) -> dict[str, Any]:
        return (await execute(self.store, use_case)).result

    async def read_log(self) -> None:
        """The ledger's movements, through the one definition of a posting."""
        while records := await self.store.read_log(self.position, 500):
            self.position = records[-1].position
            for record in records:
                change = await read_ledger_event(self.store.decode(record), self.view)
                if change is not None and change.posted is not None:
                    self.movements.append(change.posted)


def catalogue(agency_id: str) -> FeeCatalogue:
    return FeeCatalogue.from_dicts(
        [
            {
                "service_code": "LLTP-01",
                "name": "Cấp phiếu lý lịch tư pháp",
                "agency_id": agency_id,
                "amount_vnd": 200_000,
                "legal_basis": "Thông tư 244/2016/TT-BTC",
                "subsidies": [
                    {"channel": "online", "percent": 50, "budget_id": "ngan-sach-ha-noi", "legal_basis": "NQ HĐND"}
                ],
            }
        ]
    )


async def open_world(store: Any) -> World:
    world = World(store, next(EXAMPLES))
    since = BASE - timedelta(days=1)
    zones = {"A": {VehicleClass.CAR: Spaces(500, 100)}}
    await world.run(register_lot(RegisterLot(f"L-{world.n}", world.operator_id, "Lý Thái Tổ", zones, since)))
    await world.run(schedule_tariff(ScheduleTariff(f"L-{world.n}", "A", Tariff.from_dict(CAR_TARIFF), since, since)))
    await top_up(store, f"driver-{world.n}", 50_000_000, CITY, since)
    return world


async def fee(world: World, channel: str) -> str:
    no = world.name("HS")
    issued = await world.run(
        issue_fee_invoice(
            catalogue(world.agency_id),
            invoice_no=no,
            payer_id="p",
            service_code="LLTP-01",
            channel=channel,
            collection=CITY,
            at=world.clock,
        )
    )
    payment = issued["payment"]
    notice = BankNotice(
        CITY.bank_bin, CITY.account_no, f"FT-{no}", payment["amount_vnd"], payment["reference"], world.clock
    )
    await world.run(credit_bank_transfer(notice, world.clock, ON_PAID))
    return no


async def stay(world: World, method: PaymentMethod) -> None:
    driver = f"driver-{world.n}"
    prepaid = method is PaymentMethod.WALLET
    arrival = Arrival(
        world.name("s"),
        "A",
        VehicleClass.CAR,
        "30A-123.45",
        Channel.APP if prepaid else Channel.GATE,
        device_id=None if prepaid else "gate-north",
        driver_id=driver if prepaid else None,
        prepay=prepaid,
        expected_end=world.clock + timedelta(hours=1) if prepaid else None,
    )
    started = await world.run(start_session(StartSession(f"L-{world.n}", arrival, world.clock)))
    world.clock += timedelta(minutes=50 if prepaid else 121)
    ending = EndSession(UUID(started["session_id"]), method, Channel.GATE, world.clock, device_id="gate-south")
    await world.run(end_session(ending))


async def no_show(world: World) -> None:
    start_at = world.clock + timedelta(hours=2)
    booking = BookingRequest(
        world.name("r"),
        "A",
        VehicleClass.CAR,
        "30A-123.45",
        f"driver-{world.n}",
        start_at,
        start_at + 2 * timedelta(hours=1),
    )
    made = await world.run(make_reservation(MakeReservation(f"L-{world.n}", booking, world.clock)))
    world.clock = start_at + timedelta(minutes=15)
    await world.run(mark_no_show(CloseReservation(UUID(made["reservation_id"]), world.clock)))


def cash_held(world: World) -> int:
    flows = [f for m in world.movements for f in m.cash_flows() if f.operator_id == world.operator_id]
    return sum(f.collected_vnd - f.deposited_vnd for f in flows)


async def close(world: World, payee: str, day: date, cutoff: time) -> int:
    """Close a batch for ``payee``'s ``day``; return the net it carried when nothing was paid."""
    calendar = SettlementCalendar(cutoff=cutoff)
    claim = await claim_for(world.store, payee, day, calendar)
    try:
        batch = await world.run(
            close_settlement_batch(claim=claim, calendar=calendar, paying_account=PAYING, closed_by="kt", at=CLOSING_AT)
        )
    except NothingToPay as nothing:
        return nothing.net_vnd
    world.batches.append(UUID(batch["id"]))
    return 0


async def apply(world: World, step: Step) -> None:
    kind, *args = step
    if kind == "fee":
        world.invoices.append((await fee(world, args[0]), 200_000 if args[0] == "counter" else 100_000))
    elif kind == "cancel_online":
        no = world.name("HS")
        await world.run(
            issue_fee_invoice(
                catalogue(world.agency_id),
                invoice_no=no,
                payer_id="p",
                service_code="LLTP-01",
                channel="online",
                collection=CITY,
                at=world.clock,
            )
        )
        world.clock += timedelta(minutes=5)
        await world.run(cancel_fee_invoice(no, "applied twice", world.clock))
    elif kind == "refund" and world.invoices:
        no, paid = world.invoices.pop(args[0] % len(world.invoices))
        world.clock += timedelta(days=1)
        await world.run(refund_fee_invoice(no, paid, "not delivered", world.clock))
    elif kind in ("wallet_stay", "cash_stay"):
        await stay(world, PaymentMethod.WALLET if kind == "wallet_stay" else PaymentMethod.CASH)
    elif kind == "no_show":
        await no_show(world)
    elif kind == "deposit" and (held := cash_held(world)) > 0:
        amount = max(1, held * args[0] // 100)
        command = RecordCashDeposit(world.operator_id, world.name("NT"), amount, CITY, world.clock, "tq", world.clock)
        await world.run(record_cash_deposit(command))
    elif kind == "close":
        payee = world.payees[1 if args[0] else 0]
        await close(world, payee, FIRST_DAY + timedelta(days=args[1]), args[2])
    elif kind == "return" and (open_batches := [b for b in world.batches if b not in world.returned]):
        batch = open_batches[args[0] % len(open_batches)]
        await world.run(record_batch_returned(batch, "AC04 closed account", world.clock))
        world.returned.add(batch)
    world.clock += timedelta(hours=args[0]) if kind == "wait" else timedelta(minutes=7)


async def check_after_step(world: World) -> None:
    await world.read_log()
    debits = sum(p.amount_vnd for m in world.movements for p in m.postings if p.side is Side.DEBIT)
    credits = sum(p.amount_vnd for m in world.movements for p in m.postings if p.side is Side.CREDIT)
    assert debits == credits
    payable_postings = {
        p.key: p.account
        for m in world.movements
        if m.kind != PAYOUT_KIND
        for p in m.postings
        if p.account_kind is AccountKind.PAYABLE
    }
    claimed: list[str] = []
    for identifier in world.batches:
        batch = await _batch(world, identifier)
        assert all(payable_postings[key] == batch.payee_account for key in batch.postings)
        claimed.extend(batch.postings)
    assert len(claimed) == len(set(claimed)), "a posting is in two batches"


async def _batch(world: World, identifier: UUID) -> SettlementBatch:
    async def load(uow: Any) -> dict[str, Any]:
        return {"batch": await uow.get(SettlementBatch, identifier)}

    return (await world.run(load))["batch"]  # type: ignore[no-any-return]


def owed(world: World, payee: str) -> int:
    """What the ledger says the payee earned: its payable postings, payouts and their returns aside."""
    total = 0
    for movement in world.movements:
        if movement.kind in (PAYOUT_KIND, f"reversal:{PAYOUT_KIND}"):
            continue
        for p in movement.postings:
            if p.account == payee:
                total += p.amount_vnd if p.side is Side.CREDIT else -p.amount_vnd
    return total


async def check_after_settling_every_day(world: World, shuffle: Random) -> None:
    """Settle every day in a random order, then the last day again: what that close
    carries (nothing, or the net it could not pay) is what the payee carries."""
    last_day = world.clock.astimezone(VIETNAM_TZ).date() + timedelta(days=1)
    days = [FIRST_DAY + timedelta(days=offset) for offset in range((last_day - FIRST_DAY).days + 1)]
    shuffle.shuffle(days)
    for day in days:
        for payee in world.payees:
            await close(world, payee, day, time(23, 0))
    carried = {payee: await close(world, payee, last_day, time(23, 0)) for payee in world.payees}
    await check_after_step(world)
    balances = await posted_balances(world.store, *world.payees)
    for payee in world.payees:
        paid = 0
        for identifier in world.batches:
            batch = await _batch(world, identifier)
            if batch.payee_account == payee and identifier not in world.returned:
                paid += batch.net_vnd
        unbanked = max(0, cash_held(world)) if payee == world.payees[1] else 0
        assert carried[payee] <= 0
        assert paid + carried[payee] == owed(world, payee) - unbanked
        assert balances[payee] == owed(world, payee) - paid  # the payouts posted are the batches' nets


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps, shuffle=st.randoms(use_true_random=False))
async def test_every_payable_posting_is_paid_once_and_payees_get_what_they_are_owed(
    store: Any, steps: list[Step], shuffle: Random
) -> None:
    world = await open_world(store)
    for step in steps:
        await apply(world, step)
        await check_after_step(world)
    await check_after_settling_every_day(world, shuffle)
