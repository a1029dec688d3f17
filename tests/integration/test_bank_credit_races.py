"""The same bank notice delivered twice at the same time, on both stores."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.model.ledger import PartyKind, bank_clearing, payable
from domain.model.payments import PaymentPurpose
from domain.services.fees import issue_fee_invoice, settle_invoice_on_payment
from domain.services.payments import BankNotice, credit_bank_transfer
from domain.services.unit_of_work import Outcome, RequestKey, execute
from tests.support.catalogue import CATALOGUE, TREASURY
from tests.support.ledger import posted_balances

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
ON_PAID = {PaymentPurpose.FEE_INVOICE: settle_invoice_on_payment}
PAIRS = 200


def no_key(i: int) -> None:
    return None


def connector_key(i: int) -> RequestKey:
    """A connector that also sends the bank's transaction id as an idempotency key."""
    return RequestKey.of("bank-connector", f"FT-RACE-{i}", {"bank_tx_id": f"FT-RACE-{i}"})


@pytest.mark.parametrize("key", [no_key, connector_key])
async def test_a_notice_delivered_twice_at_once_is_answered_once_and_then_as_a_duplicate(
    store: Any, key: Callable[[int], RequestKey | None]
) -> None:
    references = []
    for i in range(PAIRS):
        issue = issue_fee_invoice(
            CATALOGUE,
            invoice_no=f"RACE-{i}",
            payer_id="001099012345",
            service_code="TP-CT-01",
            channel="counter",
            collection=TREASURY,
            at=T0,
        )
        references.append((await execute(store, issue)).result["payment"]["reference"])

    async def deliver(i: int) -> Outcome:
        notice = BankNotice(TREASURY.bank_bin, TREASURY.account_no, f"FT-RACE-{i}", 2_000, references[i], T0)
        return await execute(store, credit_bank_transfer(notice, T0 + timedelta(minutes=1), ON_PAID), key(i))

    async def deliver_later(i: int) -> Outcome:
        # Staggered by 0-5 ms so that some second delivery reads while the first commits.
        await asyncio.sleep((i % 20) * 0.000_25)
        return await deliver(i)

    for i in range(PAIRS):
        answers = await asyncio.gather(deliver(i), deliver_later(i), return_exceptions=True)
        errors = [a for a in answers if isinstance(a, BaseException)]
        assert not errors, f"pair {i}: {errors!r}"
        # One delivery credits; the other is told it was a duplicate (or, under the
        # same idempotency key, gets the first answer replayed).
        repeats = [a.replayed or a.result["duplicate"] for a in answers if isinstance(a, Outcome)]
        assert sorted(repeats) == [False, True], f"pair {i}"
    bank, agency = bank_clearing(TREASURY.bank_bin, TREASURY.account_no), payable(PartyKind.AGENCY, "so-tu-phap")
    assert await posted_balances(store, bank, agency) == {bank: PAIRS * 2_000, agency: PAIRS * 2_000}
