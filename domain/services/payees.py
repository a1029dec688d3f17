"""Use cases of payees: register or update one (idempotent PUT semantics), read one, and
the collection account that payments for a payee are sent to."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.model.errors import DomainError
from domain.model.payees import BankAccount, Payee, PayeeKind, payee_stream_id
from domain.services.payments import CollectionAccount
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


class NoCollectionAccount(DomainError):
    """Payments for a payee need the bank account its payers' transfers go to."""

    code = "no-collection-account"
    status = 409


async def collection_account_of(uow: UnitOfWork, payee_id: str) -> CollectionAccount:
    """Where payers' transfers for ``payee_id`` go (refuses an unknown payee or one without)."""
    payee = await uow.get(Payee, payee_stream_id(payee_id))
    account = payee.collection_account
    if account is None:
        raise NoCollectionAccount(f"payee {payee_id} has no collection_account: PUT it first")
    return CollectionAccount(account.bank_bin, account.account_no, account.account_name)
