"""``PUT /v1/payees/{payee_id}``: register or update a payee and its bank accounts (admin)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from adapters.http.idempotency import run_write
from adapters.http.routing import Answer, Body, Call, Reply, Route, roles
from domain.model.clients import Role
from domain.model.payees import BankAccount, PayeeKind
from domain.services.payees import put_payee

Kind = Literal["agency", "parking_operator", "transport_operator", "budget"]
Bin = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$", description="6-digit NAPAS BIN")]
AccountNo = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9]{1,19}$")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class Account(Body):
    bank_bin: Bin
    account_no: AccountNo
    account_name: Name


class PayeeBody(Body):
    name: Name
    kind: Kind
    collection_account: Account | None = None
    payout_account: Account | None = None


class AccountView(Answer):
    bank_bin: str
    account_no: str
    account_name: str


class PayeeView(Answer):
    payee_id: str
    name: str
    kind: Kind
    collection_account: AccountView | None
    payout_account: AccountView | None


def _account(account: Account | None) -> BankAccount | None:
    return None if account is None else BankAccount(account.bank_bin, account.account_no, account.account_name)


def _render(result: dict[str, Any]) -> tuple[int, PayeeView]:
    return (201 if result["created"] else 200), msgspec.convert(result["payee"], PayeeView)


async def put(call: Call) -> Reply:
    body: PayeeBody = call.body
    use_case = put_payee(
        payee_id=call.param("payee_id"),
        name=body.name,
        kind=PayeeKind(body.kind),
        collection_account=_account(body.collection_account),
        payout_account=_account(body.payout_account),
        at=call.at,
    )
    return await run_write(call, use_case, _render)


ROUTES = [
    Route(
        "PUT",
        "/v1/payees/{payee_id}",
        put,
        roles(Role.ADMIN),
        "Register a payee, or update its name and bank accounts",
        request=PayeeBody,
        response=PayeeView,
        status=200,
        other_statuses=(201,),
    ),
]
