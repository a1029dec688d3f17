"""A parking fee paid by QR at the exit, end to end: the session ends, the gate asks for the
payment, the bank's notification pays it through the production hand-overs (`ON_PAID`)."""

from __future__ import annotations

from typing import Any

import pytest

from domain.model.ledger import refunds_payable, suspense
from domain.model.parking import NothingDue, ParkingSession, PaymentMethod
from domain.services.parking import session_view
from domain.services.parking_payments import request_session_payment
from domain.services.payment_purposes import ON_PAID
from domain.services.payments import BankNotice, credit_bank_transfer
from domain.services.unit_of_work import UnitOfWork
from tests.support.parking import (
    CITY,
    CITY_BANK,
    HOUR,
    MIN,
    OPERATOR_PAYABLE,
    T0,
    arrival,
    end,
    open_lot,
    posted,
    run,
    start,
)


async def test_a_qr_exit_is_requested_paid_and_cleared(store: Any) -> None:
    await open_lot(store)  # the driver's 500,000 VND top-up reached the city's account the day before
    session = await start(store, arrival("gate-9"))
    ended = await end(store, session, T0 + 3 * HOUR, PaymentMethod.QR)
    assert (ended["status"], ended["amount_due_vnd"]) == ("ended", 85_000)

    asked = await run(store, request_session_payment(session, CITY, T0 + 3 * HOUR))
    again = await run(store, request_session_payment(session, CITY, T0 + 3 * HOUR + MIN))
    assert again == asked, "the gate asking twice shows the same QR"
    payment = asked["payment"]
    assert (payment["amount_vnd"], payment["status"], payment["purpose"]) == (85_000, "pending", "parking_session")
    assert (payment["purpose_id"], payment["bank_bin"], payment["account_no"]) == (
        str(session),
        CITY.bank_bin,
        CITY.account_no,
    )

    note = f"MBVCB.88812.{payment['reference']}.gui xe"
    notice = BankNotice(CITY.bank_bin, CITY.account_no, "FT-EXIT-1", 85_000, note, T0 + 3 * HOUR + 2 * MIN)
    credited = await run(store, credit_bank_transfer(notice, T0 + 3 * HOUR + 2 * MIN, ON_PAID))
    assert (credited["outcome"], credited["payment"]["status"]) == ("exact", "paid")

    async def read(uow: UnitOfWork) -> dict[str, Any]:
        return session_view(await uow.get(ParkingSession, session))

    cleared = await run(store, read)
    assert (cleared["amount_due_vnd"], cleared["payment_reference"]) == (0, payment["reference"])
    assert await posted(store, CITY_BANK, OPERATOR_PAYABLE, refunds_payable(), suspense()) == {
        CITY_BANK: 500_000 + 85_000,
        OPERATOR_PAYABLE: 85_000,
        refunds_payable(): 0,
        suspense(): 0,
    }
    with pytest.raises(NothingDue, match="owes nothing"):
        await run(store, request_session_payment(session, CITY, T0 + 4 * HOUR))
