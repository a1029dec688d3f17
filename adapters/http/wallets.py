"""Wallets for citizen apps: a holder's balance. Money comes in through
``POST /v1/payments`` with purpose ``wallet_topup`` (the holder id as ``purpose_id``)."""

from __future__ import annotations

import msgspec

from adapters.http.routing import Answer, Call, Reply, Route, roles
from domain.model.clients import Role
from domain.model.errors import InvalidValue, NotFound
from domain.model.ledger import wallet
from domain.services.unit_of_work import execute
from domain.services.wallets import get_wallet


class WalletAnswer(Answer):
    wallet_id: str
    holder_id: str
    account: str
    balance_vnd: int
    reserved_vnd: int
    available_vnd: int


async def balance(call: Call) -> Reply:
    holder_id = call.param("holder_id")
    try:
        wallet(holder_id)  # a holder id that cannot name a ledger account has no wallet
    except InvalidValue:
        raise NotFound(f"no wallet for {holder_id!r}") from None
    outcome = await execute(call.services.store, get_wallet(holder_id))
    return Reply(200, msgspec.convert(outcome.result, WalletAnswer))


ROUTES = [
    Route(
        "GET", "/v1/wallets/{holder_id}", balance, roles(Role.APP),
        "A wallet's balance, what open reservations hold, and what is available (its own stream, not a projection)",
        response=WalletAnswer,
    ),
]  # fmt: skip
