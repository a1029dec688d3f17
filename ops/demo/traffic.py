"""The day at the ward's one-stop counter and on the buses: fee invoices and how their
payers pay, transfers nobody can match, e-tickets and their rides, wallet top-ups.

Every invoice is issued as ``POST /v1/fees/invoices`` issues it (`issue_catalogued_invoice`,
numbered from the counter client and an Idempotency-Key), every payment asked for as
``POST /v1/payments`` asks (`request_payment`), and every bank credit arrives as the bank
connector delivers it (`credit_bank_transfer`). How payers behave, per payment of a fee:
most pay the exact amount within minutes; some send too little (and some of those send
the rest), some pay after the QR code expired, some pay twice, some are notified twice;
some leave without paying (the counter cancels the invoice). The first invoices of the
day carry what the statement will show as exceptions (a notice that never came, a line
the bank repeated, an amount the bank booked otherwise).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from adapters.http.fees import invoice_number_for
from domain.model.payments import PaymentPurpose
from domain.model.tickets import Concession, PaymentMethod
from domain.services.fee_catalogue import issue_catalogued_invoice
from domain.services.fees import cancel_fee_invoice
from domain.services.payment_requests import PaymentAsk, request_payment
from domain.services.payments import DEFAULT_NOTICE_DELAY, expire_payment
from domain.services.ticket_products import buy_ticket
from domain.services.tickets import validate_ticket
from ops.demo.catalogue import (
    BUS_OPERATOR,
    COUNTER,
    DEMAND,
    JUSTICE,
    ONLINE,
    PAYEE,
    SERVICES,
    TICKET_DEMAND,
    TICKET_PRODUCT,
    VNEID,
    WALLETS,
    WARD,
)
from ops.demo.flows import Flow, Flows, citizen_id, person, transfer_note

COUNTER_CLIENT = "demo-counter"
COUNTER_SCOPE = (WARD, JUSTICE)
INVOICE_KIND, UNMATCHED_KIND, TICKET_KIND, TOPUP_KIND = 1, 5, 3, 4
PLANTED_MISMATCH, PLANTED_REPEATED, PLANTED_LOST_FIRST = 0, 1, 2
MISMATCH_SHORT_VND = 1_100  # the bank booked this much less than it notified
_SERVICE_CODES = [s.service_code for s in SERVICES]
_SUBSIDISED = {s.service_code for s in SERVICES if s.subsidies}
_ROUTES = ("01", "09", "18", "32", "34", "36", "86", "E01")


def lost_notices(size: int) -> int:
    return max(1, size // 400)


def _channel(rnd: random.Random, service_code: str) -> str:
    if service_code in _SUBSIDISED:
        draw = rnd.random()
        return VNEID if draw < 0.45 else ONLINE if draw < 0.55 else COUNTER
    return COUNTER


def invoice_flows(flows: Flows) -> list[Flow]:
    size = flows.day.size
    lost = range(PLANTED_LOST_FIRST, PLANTED_LOST_FIRST + lost_notices(size))
    flows.bank.plant("amount_mismatch")
    flows.bank.plant("duplicate")
    flows.bank.plant("missing_in_ledger", len(lost))

    def flow(i: int) -> Flow:
        async def run() -> None:
            await _invoice(flows, i, planted=i < lost.stop)

        return run

    return [flow(i) for i in range(size)]


async def _invoice(flows: Flows, i: int, *, planted: bool) -> None:
    rnd = flows.day.rng(f"invoice/{i}")
    at = flows.day.office_hours(rnd)
    service_code = rnd.choices(_SERVICE_CODES, [DEMAND[c] for c in _SERVICE_CODES])[0]
    channel = _channel(rnd, service_code)
    if planted:  # paid at the counter, so that there is a payment for the bank to book
        service_code, channel = "CT-CHUKY", COUNTER
    issued = await flows.run(
        issue_catalogued_invoice(
            invoice_no=invoice_number_for(COUNTER_CLIENT, f"demo-invoice-{i:05d}"),
            payer_id=citizen_id(rnd),
            service_code=service_code,
            channel=channel,
            at=at,
            scope=COUNTER_SCOPE,
        )
    )
    flows.tally["invoices"] += 1
    flows.tally[f"invoices.channel.{channel}"] += 1
    payment = issued.get("payment")
    if payment is None:
        flows.tally["invoices.paid_by_budget"] += 1
        return
    flows.tally["payments.fee_invoice"] += 1
    await _pay_invoice(flows, rnd, i, issued, payment, at)


async def _pay_invoice(
    flows: Flows, rnd: random.Random, i: int, invoice: dict[str, Any], payment: dict[str, Any], at: datetime
) -> None:
    account = PAYEE[invoice["agency_id"]].collection_account
    reference, due = payment["reference"], payment["amount_vnd"]
    expires_at = datetime.fromisoformat(payment["expires_at"])
    note = transfer_note(rnd, reference, "nop le phi")
    payer = person(rnd)
    paid_at = at + timedelta(seconds=rnd.randrange(20, 480))

    async def pay(amount: int, when: datetime, attempt: int = 0, **options: Any) -> None:
        tx_id = flows.tx_id(INVOICE_KIND, i, attempt)
        await flows.transfer(rnd, account, tx_id, amount, note, when, payer=payer, **options)

    if i == PLANTED_MISMATCH:
        await pay(due, paid_at, statement_amount_vnd=due - MISMATCH_SHORT_VND)
        flows.tally["payments.paid"] += 1
        return
    if i == PLANTED_REPEATED:
        await pay(due, paid_at, repeated=True)
        flows.tally["payments.paid"] += 1
        return
    if i < PLANTED_LOST_FIRST + lost_notices(flows.day.size):
        await pay(due, paid_at, notified=False)
        flows.tally["payments.notice_lost"] += 1
        return
    draw = rnd.random()
    if draw < 0.84:
        await pay(due, paid_at)
        flows.tally["payments.paid"] += 1
        flows.invoices.append(invoice["invoice_no"])
    elif draw < 0.87:  # a digit short, then the rest once the counter shows what is still due
        await pay(_short(due), paid_at)
        await pay(due - _short(due), paid_at + timedelta(seconds=rnd.randrange(60, 300)), 1)
        flows.tally["payments.underpaid_then_completed"] += 1
    elif draw < 0.89:  # a digit short, and gone: the QR expires part-paid, the money is owed back
        await pay(_short(due), paid_at)
        await flows.run(expire_payment(reference, expires_at + DEFAULT_NOTICE_DELAY + timedelta(seconds=1)))
        flows.tally["payments.underpaid_expired"] += 1
    elif draw < 0.91:  # paid long after the code expired: suspense, for finance to refund
        await pay(due, expires_at + timedelta(minutes=rnd.randrange(12, 90)))
        flows.tally["payments.late"] += 1
    elif draw < 0.93:  # the payer sent it twice: the second is owed back
        await pay(due, paid_at)
        await pay(due, paid_at + timedelta(seconds=rnd.randrange(30, 200)), 1)
        flows.tally["payments.paid_twice"] += 1
    elif draw < 0.945:  # the connector delivered the same notice twice: booked once
        await pay(due, paid_at, redelivered=True)
        flows.tally["payments.paid"] += 1
    else:  # left without paying: the counter cancels the invoice (and with it the payment)
        await flows.run(cancel_fee_invoice(invoice["invoice_no"], "người nộp không thanh toán", paid_at))
        flows.tally["payments.abandoned"] += 1


def _short(due: int) -> int:
    return due // 10 if due >= 10_000 else due // 2


def unmatched_flows(flows: Flows) -> list[Flow]:
    """Transfers to the ward's account whose note names no payment (typed by hand)."""

    def flow(i: int) -> Flow:
        async def run() -> None:
            rnd = flows.day.rng(f"unmatched/{i}")
            amount = rnd.choice((10_000, 20_000, 50_000, 100_000, 200_000))
            note = rnd.choice(("nop le phi chung thuc", "chuyen tien phuong", "le phi ho tich", "ung ho"))
            when = flows.day.office_hours(rnd)
            account = PAYEE[WARD].collection_account
            await flows.transfer(rnd, account, flows.tx_id(UNMATCHED_KIND, i), amount, f"{person(rnd)} {note}", when)
            flows.tally["bank_credits.unmatched_transfers"] += 1

        return run

    return [flow(i) for i in range(max(2, flows.day.size // 100))]


def ticket_flows(flows: Flows) -> list[Flow]:
    def flow(i: int) -> Flow:
        async def run() -> None:
            await _ticket(flows, i)

        return run

    return [flow(i) for i in range(flows.day.size // 2)]


def _bus_time(flows: Flows, rnd: random.Random) -> datetime:
    """Rush hours weigh most: 06:00-09:00 and 16:00-19:00, the rest of the day lighter."""
    draw = rnd.random()
    if draw < 0.4:
        return flows.day.moment(rnd, flows.day.at(6), flows.day.at(9))
    if draw < 0.8:
        return flows.day.moment(rnd, flows.day.at(16), flows.day.at(19))
    return flows.day.moment(rnd, flows.day.at(9), flows.day.at(16))


def _vehicle(rnd: random.Random) -> str:
    return f"{rnd.choice(_ROUTES)}-29B{rnd.randrange(10_000, 99_999)}"


async def _ticket(flows: Flows, i: int) -> None:
    rnd = flows.day.rng(f"ticket/{i}")
    at = _bus_time(flows, rnd)
    codes = list(TICKET_DEMAND)
    code = rnd.choices(codes, [TICKET_DEMAND[c] for c in codes])[0]
    product = TICKET_PRODUCT[code]
    evidence = None
    if product.concession is Concession.STUDENT:
        evidence = f"the-sinh-vien-{rnd.randrange(10**7):07d}"
    elif product.concession is Concession.ELDERLY:
        evidence = f"cccd-{citizen_id(rnd)}"
    # as `POST /v1/tickets` buys one by QR: the recorded product, paid to its operator's account
    bought = await flows.run(
        buy_ticket(
            order_id=f"demo-ticket-{i:05d}",
            rider_id=f"rider-{rnd.randrange(10**6):06d}",
            product_code=code,
            payment_method=PaymentMethod.QR,
            at=at,
            concession_evidence=evidence,
        )
    )
    flows.tally["tickets"] += 1
    flows.tally[f"tickets.{code}"] += 1
    if rnd.random() < 0.03:  # the rider never paid: the ticket lapses unpaid
        flows.tally["tickets.unpaid"] += 1
        return
    payment = bought["payment"]
    account = PAYEE[BUS_OPERATOR].collection_account
    paid_at = at + timedelta(seconds=rnd.randrange(15, 240))
    note = transfer_note(rnd, payment["reference"], "mua ve xe buyt")
    await flows.transfer(rnd, account, flows.tx_id(TICKET_KIND, i), product.price_vnd, note, paid_at)
    rides = 1 if product.rides_max == 1 else rnd.randrange(1, 5)
    ride_at = paid_at
    for _ in range(rides):
        ride_at += timedelta(minutes=rnd.randrange(3, 20) if ride_at == paid_at else rnd.randrange(40, 180))
        if ride_at >= flows.day.at(23):
            break
        vehicle = _vehicle(rnd)  # as `POST /v1/tickets/validate` records a ride: the bus and its validator
        await flows.run(validate_ticket(UUID(bought["ticket_id"]), vehicle, ride_at, f"val-{vehicle}"))
        flows.tally["validations"] += 1
    flows.tickets.append(bought["ticket_id"])


async def top_up(flows: Flows, rnd: random.Random, holder_id: str, amount_vnd: int, at: datetime, number: int) -> None:
    """A driver puts money in the transport wallet by QR (``POST /v1/payments``, wallet_topup)."""
    ask = PaymentAsk(PaymentPurpose.WALLET_TOPUP, holder_id, amount_vnd)
    payment = await flows.run(request_payment(ask, at=at, scope=(), wallet_payee_id=WALLETS))
    account = PAYEE[WALLETS].collection_account
    note = transfer_note(rnd, payment["reference"], "nap vi")
    await flows.transfer(rnd, account, flows.tx_id(TOPUP_KIND, number), amount_vnd, note, at + timedelta(seconds=40))
    flows.tally["wallet_topups"] += 1
