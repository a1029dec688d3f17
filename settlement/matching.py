"""The reconciliation engine: statements against ledger items, every line categorised.

Pure and synchronous: no I/O, no clock. Call it from the CLI, the HTTP layer or a
process manager with statements already parsed and ledger items already read
(`settlement.ledger_side`). Two layers:

1. balances (`settlement.balance_check`);
2. transactions, per bank account, in stages of decreasing evidence: ids (bank
   transaction id, EndToEndId, UETR, batch id; one-to-many through the entry's TxDtls,
   many-to-one for split payments), our payment reference in the remittance text,
   amount within a date window, one of our batches' totals, and a bounded subset-sum
   for the bank's batch lines. What is left is a duplicate or missing on one side.

Statement lines are numbered across all statements in order (`Reconciliation.entries`);
ledger items keep the order they were given in.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping, Sequence

from settlement.balance_check import check_balances
from settlement.ledger_items import LedgerBalance, LedgerItem, account_number
from settlement.match_book import Book
from settlement.match_keys import LedgerIndex
from settlement.match_stages import (
    Account,
    close_leftovers,
    ledger_duplicates,
    match_by_amount_date,
    match_by_ids,
    match_by_ledger_batch,
    match_by_reference,
)
from settlement.outcomes import MatchOptions, Reconciliation
from settlement.statements.model import Entry, Statement, normalise_account
from settlement.subset_sum import match_by_subset_sum


def reconcile(
    statements: Sequence[Statement],
    items: Sequence[LedgerItem],
    *,
    ledger_balances: Mapping[str, LedgerBalance] | None = None,
    options: MatchOptions | None = None,
) -> Reconciliation:
    """``ledger_balances`` is keyed by account number as statements name the account."""
    options = options or MatchOptions()
    entries: list[Entry] = []
    line_statement: array[int] = array("i")
    for position, statement in enumerate(statements):
        entries.extend(statement.entries)
        line_statement.extend(array("i", [position]) * len(statement.entries))
    book = Book(entries, items)
    for account in _accounts(statements, items, options):
        ledger_duplicates(book, account)
        match_by_ids(book, account)
        match_by_reference(book, account, options)
        match_by_amount_date(book, account, options)
        match_by_ledger_batch(book, account, options)
        match_by_subset_sum(book, account, options)
        close_leftovers(book, account, options)
    balances = {normalise_account(k): v for k, v in (ledger_balances or {}).items()}
    return Reconciliation(
        statements=tuple(statements),
        entries=entries,
        line_statement=line_statement,
        items=items,
        line_categories=bytes(book.line_categories),
        item_categories=bytes(book.item_categories),
        pair_lines=book.pair_lines,
        pair_items=book.pair_items,
        pair_stages=bytes(book.pair_stages),
        multi_matches=tuple(book.multi),
        cases=tuple(book.cases),
        balance_checks=tuple(check_balances(statements, balances)),
        options=options,
    )


def _accounts(statements: Sequence[Statement], items: Sequence[LedgerItem], options: MatchOptions) -> list[Account]:
    """Lines and items grouped by account number: statement accounts in file order, then
    accounts that only the ledger has (all their items are missing in the bank)."""
    lines: dict[str, list[int]] = {}
    position = 0
    for statement in statements:
        count = len(statement.entries)
        lines.setdefault(statement.account, []).extend(range(position, position + count))
        position += count
    by_account: dict[str, list[int]] = {}
    numbers: dict[str, str] = {}  # a day has a few accounts and a million items
    for index, item in enumerate(items):
        number = numbers.get(item.account)
        if number is None:
            number = numbers[item.account] = account_number(item.account)
        by_account.setdefault(number, []).append(index)
    accounts = []
    for number in list(lines) + sorted(n for n in by_account if n not in lines):
        members = by_account.get(number, [])
        currency = items[members[0]].currency if members else options.ledger_currency
        accounts.append(Account(number, currency, lines.get(number, []), members, LedgerIndex(items, members)))
    return accounts
