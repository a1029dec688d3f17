"""Running the demo day: use cases through `execute`, money through the bank.

The day is made of independent flows (one invoice and its payment, one parking stay, one
ticket and its rides), each a short sequence of use cases in time order. Flows run
concurrently, a bounded number at a time, so the store's group commit batches their
writes; everything a flow draws comes from its own random source and its own bank
transaction numbers, so the events of a seed are the same however the flows interleave.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from domain.ports import EventStore
from domain.services.payment_purposes import ON_PAID
from domain.services.payments import BankNotice, CollectionAccount, credit_bank_transfer
from domain.services.unit_of_work import UseCase, execute
from ops.demo.bank import Bank, Booking
from ops.demo.day import DemoDay

CONCURRENT_FLOWS = 32
Flow = Callable[[], Awaitable[None]]

_FAMILY = ("NGUYEN", "TRAN", "LE", "PHAM", "HOANG", "VU", "VO", "DANG", "BUI", "DO", "NGO", "DUONG", "LY")
_MIDDLE = ("VAN", "THI", "DUC", "MINH", "THU", "HONG", "QUANG", "NGOC", "THANH", "KHANH")
_GIVEN = ("AN", "BINH", "CHI", "DUNG", "GIANG", "HA", "HUNG", "LAN", "LINH", "MAI", "NAM", "PHUONG", "QUAN", "TU")
# Banks our payers send from (their BIN prefixes an account number that is theirs).
_PAYER_BANKS = ("970436", "970418", "970415", "970405", "970407", "970422", "970432", "970423")


def person(rnd: random.Random) -> str:
    return f"{rnd.choice(_FAMILY)} {rnd.choice(_MIDDLE)} {rnd.choice(_GIVEN)}"


def citizen_id(rnd: random.Random) -> str:
    """A 12-digit citizen identity number of someone born in Hà Nội (province code 001)."""
    return f"001{rnd.choice('0123')}{rnd.randrange(40, 100):02d}{rnd.randrange(10**6):06d}"


def payer_account(rnd: random.Random) -> str:
    return f"{rnd.choice(_PAYER_BANKS)[-3:]}{rnd.randrange(10**9):09d}"


@dataclass
class Flows:
    store: EventStore
    day: DemoDay
    bank: Bank
    tally: Counter[str] = field(default_factory=Counter)
    cash: list[tuple[datetime, int]] = field(default_factory=list)  # attendants' cash: (taken at, amount)
    wallet_holders: list[str] = field(default_factory=list)
    invoices: list[str] = field(default_factory=list)  # numbers of the invoices a payer paid
    tickets: list[str] = field(default_factory=list)  # ids of the tickets paid and ridden

    async def run(self, use_case: UseCase) -> dict[str, Any]:
        return (await execute(self.store, use_case)).result

    async def run_in_order(self, use_cases: Iterable[UseCase]) -> None:
        for use_case in use_cases:
            await self.run(use_case)

    async def run_all(self, flows: list[Flow]) -> None:
        gate = asyncio.Semaphore(CONCURRENT_FLOWS)

        async def one(flow: Flow) -> None:
            async with gate:
                await flow()

        await asyncio.gather(*(one(flow) for flow in flows))

    def tx_id(self, kind: int, number: int, attempt: int = 0) -> str:
        """The bank's transaction number: ``FT`` + year and day of the year + 7 digits
        (the kind of flow, its number, the transfer within it)."""
        day = self.day.day
        return f"FT{day:%y}{day.timetuple().tm_yday:03d}{kind}{number:05d}{attempt}"

    async def transfer(
        self,
        rnd: random.Random,
        account: CollectionAccount,
        tx_id: str,
        amount_vnd: int,
        note: str,
        booked_at: datetime,
        *,
        payer: str | None = None,
        notified: bool = True,
        redelivered: bool = False,
        statement_amount_vnd: int | None = None,
        repeated: bool = False,
    ) -> dict[str, Any] | None:
        """A payer's transfer: the bank books it and (unless the notice is lost) notifies
        us a few seconds later, as the connector's webhook would; returns our answer."""
        self.bank.book(
            Booking(
                account.account_no,
                tx_id,
                amount_vnd,
                note,
                booked_at,
                payer or person(rnd),
                payer_account(rnd),
                statement_amount_vnd,
                repeated,
            )
        )
        if not notified:
            return None
        notice = BankNotice(account.bank_bin, account.account_no, tx_id, amount_vnd, note, booked_at)
        received_at = booked_at + timedelta(seconds=rnd.randrange(1, 20))
        answer = await self.run(credit_bank_transfer(notice, received_at, ON_PAID))
        self.tally[f"bank_credits.{answer['outcome']}"] += 1
        if redelivered:  # the provider retried a delivery it thought had failed
            again = await self.run(credit_bank_transfer(notice, received_at + timedelta(seconds=30), ON_PAID))
            assert again["duplicate"], again
            self.tally["bank_notices.redelivered"] += 1
        return answer


def transfer_note(rnd: random.Random, reference: str, words: str) -> str:
    """What payers' banking apps put in the transfer note around our reference."""
    style = rnd.randrange(4)
    if style == 0:
        return f"MBVCB.{rnd.randrange(10**9, 10**10)}.{reference}.{words}"
    if style == 1:
        return f"{reference} {words}"
    if style == 2:
        return f"IBFT {reference} {person(rnd)} chuyen tien"
    return f"{person(rnd)} {words} {reference}"
