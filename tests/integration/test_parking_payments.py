"""Asking for a parking session's QR payment, and bank credits the session can no longer
take, on both stores: the credit is recorded and its money goes on to refunds payable."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import NAMESPACE_URL, uuid5

import pytest

from domain.model.errors import InvalidTransition, InvalidValue
from domain.model.ledger import refunds_payable, suspense
from domain.model.parking import NothingDue, ParkingSession, PaymentMethod
from domain.model.payments import PaymentPurpose
from domain.model.transfers import Transfer, transfer_id
from domain.services.parking_payments import request_session_payment
from domain.services.payment_purposes import ON_PAID
from domain.services.payments import BankNotice, credit_bank_transfer, new_payment
from domain.services.unit_of_work import UnitOfWork
from tests.support.ledger import posted_balances
from tests.support.parking import (
    CITY,
    CITY_BANK,
    MIN,
    OPERATOR_PAYABLE,
    T0,
    arrival,
    end,
    open_lot,
    run,
    start,
)

ENDED_AT = T0 + 30 * MIN  # a 25,000 VND stay
CITY_PAYMENTS = uuid5(NAMESPACE_URL, "https://citysettle.example/tests/parking-payments")


def pay(reference: str, tx: str, amount_vnd: int, minutes: int = 2) -> Any:
    at = ENDED_AT + minutes * MIN
    notice = BankNotice(CITY.bank_bin, CITY.account_no, tx, amount_vnd, f"IBFT {reference} gui xe", at)
    return credit_bank_transfer(notice, at, ON_PAID)


async def test_only_an_ended_session_that_owes_something_gets_a_payment(store: Any) -> None:
    await open_lot(store, wallet_vnd=0)
    parked = await start(store, arrival("gate-1"))
    with pytest.raises(InvalidTransition, match="has not ended"):
        await run(store, request_session_payment(parked, CITY, T0 + MIN))
    await end(store, parked, ENDED_AT, PaymentMethod.CASH)
    with pytest.raises(NothingDue, match="owes nothing"):
        await run(store, request_session_payment(parked, CITY, ENDED_AT))

    by_qr = await start(store, arrival("gate-2"))
    await end(store, by_qr, ENDED_AT, PaymentMethod.QR)
    with pytest.raises(InvalidValue, match="before the session ended"):
        await run(store, request_session_payment(by_qr, CITY, ENDED_AT - MIN))
    with pytest.raises(InvalidValue, match="between 1 second"):
        await run(store, request_session_payment(by_qr, CITY, ENDED_AT, ttl=timedelta(0)))
    asked = await run(store, request_session_payment(by_qr, CITY, ENDED_AT))
    assert asked["payment"]["amount_vnd"] == 25_000


async def test_a_lapsed_qr_is_replaced_and_its_late_money_kept_in_suspense(store: Any) -> None:
    await open_lot(store, wallet_vnd=0)
    session = await start(store, arrival("gate-1"))
    await end(store, session, ENDED_AT, PaymentMethod.QR)
    ttl = timedelta(minutes=10)
    first = (await run(store, request_session_payment(session, CITY, ENDED_AT, ttl)))["payment"]
    same = (await run(store, request_session_payment(session, CITY, ENDED_AT + 9 * MIN, ttl)))["payment"]
    assert same["reference"] == first["reference"]
    fresh = (await run(store, request_session_payment(session, CITY, ENDED_AT + 10 * MIN, ttl)))["payment"]
    assert fresh["reference"] != first["reference"]
    assert (fresh["amount_vnd"], fresh["status"]) == (25_000, "pending")

    late = await run(store, pay(first["reference"], "FT-LATE", 25_000, minutes=11))
    assert late["outcome"] == "late"
    paid = await run(store, pay(fresh["reference"], "FT-OK", 25_000, minutes=12))
    assert paid["payment"]["status"] == "paid"
    assert await posted_balances(store, CITY_BANK, OPERATOR_PAYABLE, suspense(), refunds_payable()) == {
        CITY_BANK: 50_000,
        OPERATOR_PAYABLE: 25_000,
        suspense(): 25_000,
        refunds_payable(): 0,
    }


async def test_a_session_paid_twice_through_two_payments_refunds_the_second(store: Any) -> None:
    await open_lot(store, wallet_vnd=0)
    session = await start(store, arrival("gate-1"))
    await end(store, session, ENDED_AT, PaymentMethod.QR)
    ours = (await run(store, request_session_payment(session, CITY, ENDED_AT)))["payment"]

    async def an_apps_own_payment(uow: UnitOfWork) -> dict[str, Any]:
        """A second QR for the same session, asked for by another client under its own request id."""
        payment = await new_payment(
            uow,
            request_id=uuid5(session, "driver-app"),
            amount_vnd=25_000,
            payee_account=OPERATOR_PAYABLE,
            purpose=PaymentPurpose.PARKING_SESSION,
            purpose_id=str(session),
            collection=CITY,
            at=ENDED_AT,
            ttl=timedelta(minutes=15),
        )
        return {"reference": payment.reference}

    theirs = (await run(store, an_apps_own_payment))["reference"]
    assert (await run(store, pay(ours["reference"], "FT-1", 25_000)))["payment"]["status"] == "paid"
    second = await run(store, pay(theirs, "FT-2", 25_000, minutes=3))
    assert (second["duplicate"], second["outcome"], second["payment"]["status"]) == (False, "exact", "paid")

    async def fallback(uow: UnitOfWork) -> dict[str, Any]:
        posted = await uow.get(Transfer, transfer_id(f"parking:session:{session}:unfulfilled:{theirs}"))
        kept = await uow.get(ParkingSession, session)
        return {"kind": posted.kind, "due": kept.amount_due_vnd, "reference": kept.payment_reference}

    assert await run(store, fallback) == {
        "kind": "parking.session.unfulfilled.already_paid",
        "due": 0,
        "reference": ours["reference"],
    }
    expected = {CITY_BANK: 50_000, OPERATOR_PAYABLE: 25_000, refunds_payable(): 25_000, suspense(): 0}
    accounts = tuple(expected)
    assert await posted_balances(store, *accounts) == expected

    head = await store.head()
    retried = await run(store, pay(theirs, "FT-2", 25_000, minutes=3))
    assert (retried["duplicate"], retried["outcome"]) == (True, "exact")
    assert await store.head() == head
    assert await posted_balances(store, *accounts) == expected


async def test_a_payment_naming_no_session_is_recorded_and_refunded(store: Any) -> None:
    await open_lot(store, wallet_vnd=0)

    async def stray_payment(uow: UnitOfWork) -> dict[str, Any]:
        payment = await new_payment(
            uow,
            request_id=uuid5(CITY_PAYMENTS, "stray"),
            amount_vnd=40_000,
            payee_account=OPERATOR_PAYABLE,
            purpose=PaymentPurpose.PARKING_SESSION,
            purpose_id="gate-ticket-0042",
            collection=CITY,
            at=ENDED_AT,
            ttl=timedelta(minutes=15),
        )
        return {"reference": payment.reference}

    reference = (await run(store, stray_payment))["reference"]
    assert (await run(store, pay(reference, "FT-9", 40_000)))["payment"]["status"] == "paid"

    async def kind(uow: UnitOfWork) -> dict[str, Any]:
        cause = f"parking:session:gate-ticket-0042:unfulfilled:{reference}"
        return {"kind": (await uow.get(Transfer, transfer_id(cause))).kind}

    assert await run(store, kind) == {"kind": "parking.session.unfulfilled.unknown_session"}
    assert await posted_balances(store, OPERATOR_PAYABLE, refunds_payable()) == {
        OPERATOR_PAYABLE: 0,
        refunds_payable(): 40_000,
    }


async def test_a_payment_the_session_cannot_match_says_why_it_was_refunded(store: Any) -> None:
    await open_lot(store, wallet_vnd=0)
    parked = await start(store, arrival("gate-1"))  # still parked when the driver's app paid
    ended = await start(store, arrival("gate-2"))
    await end(store, ended, ENDED_AT, PaymentMethod.QR)  # 25,000 VND due

    async def premature(uow: UnitOfWork) -> dict[str, Any]:
        references = {}
        for session, amount_vnd in ((parked, 25_000), (ended, 30_000)):
            payment = await new_payment(
                uow,
                request_id=uuid5(session, "driver-app"),
                amount_vnd=amount_vnd,
                payee_account=OPERATOR_PAYABLE,
                purpose=PaymentPurpose.PARKING_SESSION,
                purpose_id=str(session),
                collection=CITY,
                at=T0,
                ttl=timedelta(hours=1),
            )
            references[str(session)] = payment.reference
        return references

    references = await run(store, premature)
    for n, reference in enumerate(references.values()):
        await run(store, pay(reference, f"FT-{n}", 30_000))

    async def kinds(uow: UnitOfWork) -> dict[str, Any]:
        return {
            s: (await uow.get(Transfer, transfer_id(f"parking:session:{s}:unfulfilled:{r}"))).kind
            for s, r in references.items()
        }

    assert await run(store, kinds) == {
        str(parked): "parking.session.unfulfilled.not_ended",
        str(ended): "parking.session.unfulfilled.amount_differs",
    }
    # 25,000 + 5,000 overpaid on the first, 30,000 on the second: all owed back, none kept.
    assert await posted_balances(store, CITY_BANK, OPERATOR_PAYABLE, refunds_payable()) == {
        CITY_BANK: 60_000,
        OPERATOR_PAYABLE: 0,
        refunds_payable(): 60_000,
    }
