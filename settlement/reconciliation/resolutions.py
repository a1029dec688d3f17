"""What resolving a reconciliation exception books in the ledger.

The difference is what the bank says minus what our ledger says for the exception's lines
and items (money in positive). A write-off books it: more in the bank than we recorded
goes to suspense (to be traced or refunded); less goes to bank charges, except a movement
missing from the bank, which goes to suspense as money to chase. A refund books money in
that nobody can claim as owed back. A manual match books nothing and needs both sides to
agree. Only VND can be booked: the ledger has no other currency.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.model.errors import InvalidValue
from domain.model.ledger import Entry, bank_charges, credit, debit, refunds_payable, suspense
from settlement.reconciliation.outcomes import Category
from settlement.reconciliation.runs import Resolution

LEDGER_CURRENCY = "VND"


def _signed(side: Mapping[str, Any]) -> int:
    amount = int(side["amount_minor"])
    return amount if side["direction"] == "CRDT" else -amount


def difference_vnd(exception: Mapping[str, Any]) -> int:
    sides = [*exception["lines"], *exception["items"]]
    if any(s["currency"] != LEDGER_CURRENCY for s in sides):
        raise InvalidValue("this exception is not in VND; book it by hand in the bank's currency")
    return sum(_signed(line) for line in exception["lines"]) - sum(_signed(item) for item in exception["items"])


def bank_account_of(exception: Mapping[str, Any], known: Mapping[str, str]) -> str:
    """The bank-clearing account: from the ledger side, else from our accounts by number."""
    for item in exception["items"]:
        return str(item["account"])
    for line in exception["lines"]:
        if line["account"] in known:
            return known[line["account"]]
    numbers = ", ".join(sorted({str(line["account"]) for line in exception["lines"]}))
    raise InvalidValue(
        f"statement account {numbers} is not one of ours: register it as a payee's collection_account, "
        f"or name its ledger account with --account {numbers}=bank:<BIN>:{numbers}"
    )


def resolution_entries(
    exception: Mapping[str, Any], resolution: Resolution, known_accounts: Mapping[str, str]
) -> list[Entry]:
    """The entries of the transfer the resolution posts; empty when it books nothing."""
    if resolution is Resolution.ACKNOWLEDGE:
        return []
    diff = difference_vnd(exception)
    if resolution is Resolution.MANUAL_MATCH:
        if not exception["lines"] or not exception["items"]:
            raise InvalidValue("a manual match pairs statement lines with ledger items; one side is empty")
        if diff:
            raise InvalidValue(f"the two sides differ by {diff} VND; write the difference off instead")
        return []
    if diff == 0:
        raise InvalidValue("the two sides agree; nothing to book")
    bank = bank_account_of(exception, known_accounts)
    if resolution is Resolution.REFUND:
        if diff < 0:
            raise InvalidValue("only money that came in can be refunded")
        return [debit(bank, diff), credit(refunds_payable(), diff)]
    if diff > 0:
        return [debit(bank, diff), credit(suspense(), diff)]
    if Category(exception["category"]) is Category.MISSING_IN_BANK:
        return [debit(suspense(), -diff), credit(bank, -diff)]
    bank_bin = bank.split(":")[1]
    return [debit(bank_charges(bank_bin), -diff), credit(bank, -diff)]
