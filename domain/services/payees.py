"""Use cases of payees: register or update one (idempotent PUT semantics), read one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.model.payees import BankAccount, Payee, PayeeKind, payee_stream_id
from domain.services.unit_of_work import UnitOfWork, UseCase


def put_payee(
    *,
    payee_id: str,
    name: str,
    kind: PayeeKind,
    collection_account: BankAccount | None,
    payout_account: BankAccount | None,
    at: datetime,
) -> UseCase:
    """Result: the payee's view and ``created`` (True when it did not exist before)."""

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        payee = await uow.find(Payee, payee_stream_id(payee_id))
        created = payee is None
        if payee is None:
            payee = Payee.register(
                payee_id=payee_id,
                name=name,
                kind=kind,
                collection_account=collection_account,
                payout_account=payout_account,
                at=at,
            )
            uow.add(payee)
        else:
            payee.change(
                name=name, kind=kind, collection_account=collection_account, payout_account=payout_account, at=at
            )
        return {"payee": payee.view(), "created": created}

    return use_case


async def find_payee(uow: UnitOfWork, payee_id: str) -> Payee | None:
    return await uow.find(Payee, payee_stream_id(payee_id))
