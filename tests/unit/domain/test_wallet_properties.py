"""Any sequence of wallet commands, each guarding the ledger move it stands for.

Every step does what a use case does: the wallet decides first, and only a change it
accepts moves money in the ledger (a transfer, or a hold placed, posted or voided); a
refused step changes neither. After any sequence the wallet's invariants hold, its
balance equals the ledger's posted balance of ``wallet:<holder>`` computed by the real
balances projection from the same transfers and holds, its available balance equals
the ledger's, and its events rebuild it exactly.
"""

from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from eventsourcing.domain import Aggregate
from hypothesis import event, given, settings
from hypothesis import strategies as st

from adapters.eventstore.codec import CodecOptions, build_mapper
from domain.model.balances import Balance, BalanceView
from domain.model.errors import DomainError
from domain.model.ledger import PartyKind, bank_clearing, credit, debit, payable, wallet
from domain.model.transfers import Hold, Transfer
from domain.model.wallets import Wallet
from domain.services.balances import LedgerBalances, account_key

T0 = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)
HOLDER = "driver-lan"
ACCOUNT = wallet(HOLDER)
BANK = bank_clearing("970415", "1140000077")
OPERATOR = payable(PartyKind.OPERATOR, "op-1")
MAPPER = build_mapper(CodecOptions())

amounts = st.integers(min_value=1, max_value=200_000)
commands = st.lists(
    st.one_of(
        st.tuples(st.just("top_up"), amounts),
        st.tuples(st.just("debit"), amounts),
        st.tuples(st.just("reserve"), amounts),
        st.tuples(st.just("capture"), st.integers(0, 20), amounts),
        st.tuples(st.just("release"), st.integers(0, 20)),
        st.tuples(st.just("retry"), st.integers(0, 40)),
    ),
    max_size=40,
)


class MemoryView:
    """The balances projection's rows in a dict (the `ProjectionView` port)."""

    def __init__(self) -> None:
        self.rows: dict[str, Any] = {}

    async def get(self, key: str) -> Any:
        return self.rows.get(key)

    def put(self, key: str, value: Any) -> None:
        self.rows[key] = value

    def delete(self, key: str) -> None:
        self.rows.pop(key, None)


@dataclass
class Books:
    """The wallet and the ledger moves its accepted changes stand for."""

    wallet: Wallet
    holds: list[Hold] = field(default_factory=list)
    ledger_events: list[Any] = field(default_factory=list)
    accepted: list[Any] = field(default_factory=list)  # commands to retry: each must be a no-op
    n: int = 0

    def record(self, *aggregates: Aggregate) -> None:
        for aggregate in aggregates:
            self.ledger_events.extend(aggregate.collect_events())

    def top_up(self, amount_vnd: int, at: datetime) -> None:
        cause = f"payment:P{self.n}"
        self.wallet.top_up(cause, amount_vnd, at)
        entries = [debit(BANK, amount_vnd), credit(ACCOUNT, amount_vnd)]
        self.record(Transfer.post(f"bank-credit:{cause}", "top_up", entries, at))
        self.accepted.append(lambda: self.wallet.top_up(cause, amount_vnd, at))

    def debit(self, amount_vnd: int, at: datetime) -> None:
        cause = f"ticket:{self.n}:sale"
        self.wallet.debit(cause, amount_vnd, at)
        self.record(Transfer.post(cause, "sale", [debit(ACCOUNT, amount_vnd), credit(OPERATOR, amount_vnd)], at))
        self.accepted.append(lambda: self.wallet.debit(cause, amount_vnd, at))

    def reserve(self, amount_vnd: int, at: datetime) -> None:
        hold = Hold.place(f"parking:{self.n}", "parking", ACCOUNT, OPERATOR, amount_vnd, at, at + timedelta(days=1))
        self.wallet.reserve(hold.cause, amount_vnd, at, hold.expires_at)
        self.holds.append(hold)
        self.record(hold)
        self.accepted.append(lambda: self.wallet.reserve(hold.cause, amount_vnd, at, hold.expires_at))

    def capture(self, pick: int, amount_vnd: int, at: datetime) -> None:
        hold = self.holds[pick % len(self.holds)] if self.holds else None
        if hold is None:
            return
        self.wallet.capture(hold.cause, amount_vnd, at)
        hold.post(amount_vnd, at)
        self.record(hold)
        self.accepted.append(lambda: self.wallet.capture(hold.cause, amount_vnd, at))

    def release(self, pick: int, at: datetime) -> None:
        hold = self.holds[pick % len(self.holds)] if self.holds else None
        if hold is None:
            return
        self.wallet.release(hold.cause, "voided", at)
        hold.void("voided", at)
        self.record(hold)
        self.accepted.append(lambda: self.wallet.release(hold.cause, "voided", at))

    def retry(self, pick: int) -> None:
        if self.accepted:
            before = len(self.wallet.pending_events)
            assert self.accepted[pick % len(self.accepted)]() is False
            assert len(self.wallet.pending_events) == before


def ledger_view(events: list[Any]) -> BalanceView:
    view, projection = MemoryView(), LedgerBalances()

    async def fold() -> None:
        for ledger_event in events:
            await projection.apply(ledger_event, view)

    asyncio.run(fold())
    return BalanceView.of(ACCOUNT, Balance.from_dict(view.rows.get(account_key(ACCOUNT))))


def step(books: Books, command: tuple[Any, ...], at: datetime) -> None:
    name, *args = command
    if name == "retry":
        books.retry(args[0])
    else:
        getattr(books, name)(*args, at)


@settings(max_examples=200, deadline=None)
@given(steps=commands)
def test_a_wallet_never_overdraws_and_always_agrees_with_the_ledger(steps: list[tuple[Any, ...]]) -> None:
    books = Books(Wallet.open(HOLDER, T0))
    refused = 0
    for n, command in enumerate(steps, start=1):
        books.n = n
        at = T0 + timedelta(minutes=n)
        before = copy.deepcopy(books.wallet)
        ledger_before = len(books.ledger_events)
        try:
            step(books, command, at)
        except DomainError:
            refused += 1
            assert books.wallet == before, "a refused command changes nothing"
            assert len(books.ledger_events) == ledger_before
        w = books.wallet
        assert 0 <= w.reserved_vnd <= w.balance_vnd
        assert w.reserved_vnd == sum(r.amount_vnd for r in w.reservations.values())
        assert w.available_vnd == w.balance_vnd - w.reserved_vnd >= 0
    event(f"refused: {refused if refused < 3 else '3 or more'}")

    ledger = ledger_view(books.ledger_events)
    assert ledger.posted_vnd == books.wallet.balance_vnd
    assert ledger.available_vnd == books.wallet.available_vnd

    events = books.wallet.collect_events()
    rebuilt: Any = None
    for wallet_event in events:
        rebuilt = MAPPER.to_domain_event(MAPPER.to_stored_event(wallet_event)).mutate(rebuilt)  # type: ignore[attr-defined]
    assert rebuilt == books.wallet
