"""A fee invoice whose QR payment lapsed gets a new one, on both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.model.errors import InvalidTransition
from domain.model.ledger import PartyKind, bank_clearing, payable, refunds_payable, suspense
from domain.model.payments import PaymentPurpose
from domain.services.fee_payments import request_invoice_payment
from domain.services.fees import get_invoice, settle_invoice_on_payment
from domain.services.payments import BankNotice, cancel_payment, credit_bank_transfer, expire_payment
from domain.services.unit_of_work import UnitOfWork, execute
from tests.integration.test_fee_payments import issue as issue_invoice
from tests.support.catalogue import TREASURY
from tests.support.ledger import posted_balances

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
ON_PAID = {PaymentPurpose.FEE_INVOICE: settle_invoice_on_payment}
BANK = bank_clearing(TREASURY.bank_bin, TREASURY.account_no)
AGENCY = payable(PartyKind.AGENCY, "so-tu-phap")


async def issue(store: Any, no: str, channel: str = "counter") -> dict[str, Any]:
    return (await execute(store, issue_invoice(no, channel))).result


async def ask(store: Any, no: str, at: datetime) -> dict[str, Any]:
    return (await execute(store, request_invoice_payment(no, TREASURY, at))).result


async def pay(store: Any, tx: str, reference: str, at: datetime) -> dict[str, Any]:
    notice = BankNotice(TREASURY.bank_bin, TREASURY.account_no, tx, 200_000, f"{reference} le phi", at)
    return (await execute(store, credit_bank_transfer(notice, at, ON_PAID))).result


async def test_a_lapsed_qr_payment_is_followed_by_a_new_one_that_pays_the_invoice(store: Any) -> None:
    first = (await issue(store, "HS-A1"))["payment"]
    assert (await ask(store, "HS-A1", T0 + MIN))["payment"]["reference"] == first["reference"], "still payable"

    lapsed = T0 + 20 * MIN  # the first QR expired at 08:15 unpaid
    second = (await ask(store, "HS-A1", lapsed))["payment"]
    assert second["reference"] != first["reference"]
    assert (second["status"], second["amount_vnd"]) == ("pending", 200_000)
    assert (await ask(store, "HS-A1", lapsed + MIN))["payment"] == second, "asking again: the same payment"

    paid = await pay(store, "FT-A1", second["reference"], lapsed + 2 * MIN)
    assert (paid["outcome"], paid["payment"]["status"]) == ("exact", "paid")
    invoice = await get_invoice("HS-A1")(UnitOfWork(store))
    assert (invoice["status"], invoice["payment_reference"]) == ("paid", second["reference"])
    assert await posted_balances(store, BANK, AGENCY, refunds_payable(), suspense()) == {
        BANK: 200_000,
        AGENCY: 200_000,
        refunds_payable(): 0,
        suspense(): 0,
    }
    with pytest.raises(InvalidTransition, match="is paid"):
        await ask(store, "HS-A1", lapsed + 5 * MIN)


async def test_an_expired_or_cancelled_payment_is_followed_by_a_new_one(store: Any) -> None:
    first = (await issue(store, "HS-A2"))["payment"]
    await execute(store, cancel_payment(first["reference"], "wrong counter", T0 + MIN))
    second = (await ask(store, "HS-A2", T0 + 2 * MIN))["payment"]
    await execute(store, expire_payment(second["reference"], T0 + 30 * MIN))
    third = (await ask(store, "HS-A2", T0 + 31 * MIN))["payment"]
    assert len({first["reference"], second["reference"], third["reference"]}) == 3
    # The expired one is no longer payable: its money waits in suspense, the invoice stays open.
    assert (await pay(store, "FT-A2", second["reference"], T0 + 32 * MIN))["outcome"] == "late"
    assert (await get_invoice("HS-A2")(UnitOfWork(store)))["status"] == "issued"
    await pay(store, "FT-A3", third["reference"], T0 + 33 * MIN)
    assert (await get_invoice("HS-A2")(UnitOfWork(store)))["status"] == "paid"


async def test_an_invoice_with_nothing_left_to_pay_gets_no_payment(store: Any) -> None:
    await issue(store, "HS-A3", channel="vneid")  # the budget pays it all at issue
    with pytest.raises(InvalidTransition, match="is paid"):
        await ask(store, "HS-A3", T0 + MIN)


async def credit_booked(store: Any, tx: str, reference: str, booked: datetime, at: datetime) -> dict[str, Any]:
    notice = BankNotice(TREASURY.bank_bin, TREASURY.account_no, tx, 200_000, reference, booked)
    return (await execute(store, credit_bank_transfer(notice, at, ON_PAID))).result


async def test_a_transfer_booked_before_expiry_but_notified_late_pays_the_invoice(store: Any) -> None:
    reference = (await issue(store, "HS-B1"))["payment"]["reference"]  # expires 08:15
    paid = await credit_booked(store, "FT-B1", reference, T0 + 14 * MIN, T0 + 19 * MIN)
    assert (paid["outcome"], paid["payment"]["status"]) == ("exact", "paid")
    assert (await get_invoice("HS-B1")(UnitOfWork(store)))["status"] == "paid"
    assert await posted_balances(store, AGENCY, suspense()) == {AGENCY: 200_000, suspense(): 0}
    # Booked after the expiry, or notified beyond the accepted delay (10 minutes): late.
    other = (await issue(store, "HS-B2"))["payment"]["reference"]
    assert (await credit_booked(store, "FT-B2", other, T0 + 16 * MIN, T0 + 17 * MIN))["outcome"] == "late"
    third = (await issue(store, "HS-B3"))["payment"]["reference"]
    assert (await credit_booked(store, "FT-B3", third, T0 + 14 * MIN, T0 + 26 * MIN))["outcome"] == "late"
    assert await posted_balances(store, AGENCY, suspense()) == {AGENCY: 200_000, suspense(): 400_000}


async def test_a_lapsed_payment_notified_late_pays_the_invoice_and_the_next_attempt_is_owed_back(store: Any) -> None:
    first = (await issue(store, "HS-B4"))["payment"]["reference"]
    second = (await ask(store, "HS-B4", T0 + 16 * MIN))["payment"]["reference"]
    await credit_booked(store, "FT-B4", first, T0 + 14 * MIN, T0 + 18 * MIN)  # the citizen had paid in time
    invoice = await get_invoice("HS-B4")(UnitOfWork(store))
    assert invoice["status"] == "paid"
    both = await credit_booked(store, "FT-B5", second, T0 + 19 * MIN, T0 + 19 * MIN)
    assert both["payment"]["status"] == "paid"
    assert await posted_balances(store, BANK, AGENCY, refunds_payable()) == {
        BANK: 400_000,
        AGENCY: 200_000,
        refunds_payable(): 200_000,
    }


async def test_a_part_paid_payment_is_expired_and_owed_back_when_the_next_attempt_comes_after_the_delay(
    store: Any,
) -> None:
    first = (await issue(store, "HS-B6"))["payment"]["reference"]
    notice = BankNotice(TREASURY.bank_bin, TREASURY.account_no, "FT-B6", 50_000, first, T0 + MIN)
    await execute(store, credit_bank_transfer(notice, T0 + MIN, ON_PAID))
    await ask(store, "HS-B6", T0 + 26 * MIN)  # 08:15 expiry + 10 minutes have passed
    assert await posted_balances(store, AGENCY, refunds_payable()) == {AGENCY: 0, refunds_payable(): 50_000}
