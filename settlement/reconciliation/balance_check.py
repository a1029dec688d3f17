"""Layer 1 of a reconciliation: balances.

For each statement: opening + its booked entries = closing (in the statement's
currency; an entry in another currency counts with its instructed amount when that is
in the statement's currency, otherwise the check says it cannot be made). For each
account: the first statement's opening and the last one's closing against our
bank-clearing account's balances for the same period, when those are given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from settlement.reconciliation.ledger_items import LedgerBalance
from settlement.reconciliation.outcomes import BalanceCheck
from settlement.statements.model import BalanceRole, Statement


def check_balances(statements: Sequence[Statement], ledger: Mapping[str, LedgerBalance]) -> list[BalanceCheck]:
    checks: list[BalanceCheck] = []
    first: dict[str, Statement] = {}
    last: dict[str, Statement] = {}
    for statement in statements:
        first.setdefault(statement.account, statement)
        last[statement.account] = statement
        movement = _movement(statement)
        if movement is not None:
            checks.append(movement)
    for account, balance in ledger.items():
        if account in first:
            checks.extend(_against_ledger(first[account], BalanceRole.OPENING, balance.opening_minor, balance))
            checks.extend(_against_ledger(last[account], BalanceRole.CLOSING, balance.closing_minor, balance))
    return checks


def _movement(statement: Statement) -> BalanceCheck | None:
    opening, closing = statement.balance(BalanceRole.OPENING), statement.balance(BalanceRole.CLOSING)
    if opening is None or closing is None:
        return None
    currency = closing.currency
    result = BalanceCheck(
        statement.statement_id, statement.account, "movement", currency, closing.amount_minor, None, ok=False
    )
    if opening.currency != currency:
        return _with(result, note=f"opening balance in {opening.currency}, closing in {currency}")
    total = opening.amount_minor
    for entry in statement.entries:
        if not entry.booked:
            continue
        amount = entry.signed_minor if entry.currency == currency else entry.in_currency(currency)
        if amount is None:
            return _with(result, note=f"an entry in {entry.currency} has no amount in {currency}")
        total += amount
    return _with(
        result,
        actual=total,
        ok=total == closing.amount_minor,
        note="opening + booked entries = closing"
        if total == closing.amount_minor
        else "opening + booked entries differ from the closing balance",
    )


def _against_ledger(
    statement: Statement, role: BalanceRole, ledger_minor: int, ledger: LedgerBalance
) -> list[BalanceCheck]:
    balance = statement.balance(role)
    if balance is None:
        return []
    name = "opening_vs_ledger" if role is BalanceRole.OPENING else "closing_vs_ledger"
    if balance.currency != ledger.currency:
        return [
            BalanceCheck(
                statement.statement_id,
                statement.account,
                name,
                balance.currency,
                balance.amount_minor,
                None,
                False,
                f"the ledger account is in {ledger.currency}",
            )
        ]
    ok = balance.amount_minor == ledger_minor
    return [
        BalanceCheck(
            statement.statement_id,
            statement.account,
            name,
            balance.currency,
            balance.amount_minor,
            ledger_minor,
            ok,
            "" if ok else "statement and ledger balances differ",
        )
    ]


def _with(check: BalanceCheck, *, actual: int | None = None, ok: bool = False, note: str) -> BalanceCheck:
    return BalanceCheck(
        check.statement_id, check.account, check.check, check.currency, check.expected_minor, actual, ok, note
    )
