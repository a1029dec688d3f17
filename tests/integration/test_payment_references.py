"""Payment references on both stores: ones stored by the first scheme, and collisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.model.errors import InvalidTransition
from domain.model.ledger import PartyKind, payable
from domain.model.payments import Payment, PaymentPurpose
from domain.model.references import legacy_reference, make_reference
from domain.services.payments import BankNotice, credit_bank_transfer, new_payment
from domain.services.unit_of_work import UnitOfWork, execute
from tests.support.catalogue import TREASURY
from tests.support.payments import as_stored_v1

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
AGENCY = payable(PartyKind.AGENCY, "so-tu-phap")


def ask(request_id: UUID, amount_vnd: int = 30_000, purpose_id: str = "inv-1") -> Any:
    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        payment = await new_payment(
            uow,
            request_id=request_id,
            amount_vnd=amount_vnd,
            payee_account=AGENCY,
            purpose=PaymentPurpose.FEE_INVOICE,
            purpose_id=purpose_id,
            collection=TREASURY,
            at=T0,
            ttl=timedelta(minutes=15),
        )
        return {"reference": payment.reference, "id": str(payment.id)}

    return use_case


def stored_payment(reference: str, request_id: UUID, purpose_id: str) -> Payment:
    return Payment.create(
        reference=reference,
        request_id=request_id,
        amount_vnd=30_000,
        payee_account=AGENCY,
        purpose=PaymentPurpose.FEE_INVOICE,
        purpose_id=purpose_id,
        bank_bin=TREASURY.bank_bin,
        account_no=TREASURY.account_no,
        at=T0,
        expires_at=T0 + timedelta(minutes=15),
    )


async def test_a_payment_stored_under_the_first_scheme_is_still_the_requests_payment(store: Any) -> None:
    request = uuid4()
    old = stored_payment(legacy_reference(request), request, "inv-1")
    await store.append([as_stored_v1(e) for e in old.collect_events()])
    again = (await execute(store, ask(request))).result
    assert again == {"reference": legacy_reference(request), "id": str(old.id)}
    notice = BankNotice(TREASURY.bank_bin, TREASURY.account_no, "FT-OLD", 30_000, f"{old.reference} le phi", T0)
    credited = await execute(store, credit_bank_transfer(notice, T0 + timedelta(minutes=1)))
    assert credited.result["payment"]["status"] == "paid"


async def test_a_reference_taken_by_another_request_moves_on_to_the_next_candidate(store: Any) -> None:
    request = uuid4()
    squatter = stored_payment(make_reference(request), uuid4(), "inv-other")
    await store.append(squatter.collect_events())
    first = (await execute(store, ask(request))).result
    assert first["reference"] == make_reference(request, 1)
    assert (await execute(store, ask(request))).result == first, "the same request, the same payment"
    with pytest.raises(InvalidTransition, match="different payment"):
        await execute(store, ask(request, amount_vnd=40_000))
    notice = BankNotice(TREASURY.bank_bin, TREASURY.account_no, "FT-NEXT", 30_000, first["reference"], T0)
    credited = await execute(store, credit_bank_transfer(notice, T0 + timedelta(minutes=1)))
    assert (credited.result["payment"]["purpose_id"], credited.result["outcome"]) == ("inv-1", "exact")
