"""Recording a cash deposit: the slip and its ledger transfer in one write.

``execute(store, record_cash_deposit(command))``. Retry-safe: the same slip again with
the same facts returns the first record and writes nothing; with other facts it is
refused (`InvalidTransition`), since one slip cannot be two deposits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.model.cash_deposits import CashDeposit, cash_deposit_id
from domain.model.errors import InvalidTransition
from domain.services.payments import CollectionAccount
from domain.services.unit_of_work import UnitOfWork, UseCase


@dataclass(frozen=True, slots=True)
class RecordCashDeposit:
    operator_id: str
    slip_no: str
    amount_vnd: int
    account: CollectionAccount  # the city account the cash was paid into
    deposited_at: datetime  # when the bank booked it
    recorded_by: str
    at: datetime


def record_cash_deposit(cmd: RecordCashDeposit) -> UseCase:
    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        deposit = CashDeposit.record(
            operator_id=cmd.operator_id,
            slip_no=cmd.slip_no,
            amount_vnd=cmd.amount_vnd,
            bank_bin=cmd.account.bank_bin,
            account_no=cmd.account.account_no,
            deposited_at=cmd.deposited_at,
            recorded_by=cmd.recorded_by,
            at=cmd.at,
        )
        earlier = await uow.find(CashDeposit, cash_deposit_id(cmd.operator_id, cmd.slip_no))
        if earlier is not None:
            if not earlier.same_as(deposit):
                raise InvalidTransition(f"deposit slip {cmd.slip_no} of {cmd.operator_id} is recorded with other facts")
            return earlier.view()
        uow.add(deposit, deposit.transfer())
        return deposit.view()

    return use_case
