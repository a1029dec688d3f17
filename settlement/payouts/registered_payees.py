"""Where settlement pays each payee: the payout account registered for it (``PUT
/v1/payees/{id}``), checked as a pain.001 creditor before anything is closed.

A payee's ledger account is ``payable:<party>:<payee id>``; the payee registered under
that id must have a ``payout_account`` that a payout file can carry (a NAPAS member's
BIN, 1-19 letters or digits, a name within ISO 20022's limits). Every problem is named
at once, so one round of corrections is enough.
"""

from __future__ import annotations

from collections.abc import Collection

from domain.model.errors import InvalidValue
from domain.model.payees import Payee, payee_stream_id
from domain.services.unit_of_work import UnitOfWork
from settlement.payouts.pain001 import BankAccount, PayeeDirectory, account_problems


def payee_id_of(payee_account: str) -> str:
    """``payable:agency:stp-hn`` -> ``stp-hn``."""
    return payee_account.split(":", 2)[-1]


async def registered_directory(uow: UnitOfWork, payee_accounts: Collection[str]) -> PayeeDirectory:
    accounts: dict[str, BankAccount] = {}
    problems: list[str] = []
    for payee_account in sorted(set(payee_accounts)):
        payee_id = payee_id_of(payee_account)
        payee = await uow.find(Payee, payee_stream_id(payee_id))
        if payee is None:
            problems.append(f"{payee_account}: no payee {payee_id} is registered (PUT /v1/payees/{payee_id})")
            continue
        payout = payee.payout_account
        if payout is None:
            problems.append(f"{payee_account}: payee {payee_id} has no payout_account (PUT /v1/payees/{payee_id})")
            continue
        found = account_problems(payout.bank_bin, payout.account_no, payout.account_name)
        if found:
            problems.append(f"{payee_account}: payout_account of {payee_id}: " + "; ".join(found))
            continue
        accounts[payee_account] = BankAccount(payout.bank_bin, payout.account_no, payout.account_name)
    if problems:
        raise InvalidValue("fix the registered payees before settling: " + " | ".join(problems))
    return PayeeDirectory(accounts)
