"""The reconciliation engine: statements against ledger items, every line categorised.

Pure and synchronous: no I/O, no clock. Call it from the CLI, the HTTP layer or a
process manager with statements already parsed and ledger items already read
(`settlement.reconciliation.ledger_side`). Two layers:

1. balances (`settlement.reconciliation.balance_check`);
2. transactions, per bank account (`settlement.reconciliation.match_accounts`), in
   stages of decreasing evidence (`settlement.reconciliation.stages`, one module each):
   ids (bank transaction id, EndToEndId, UETR, batch id; one-to-many through the entry's
   TxDtls, many-to-one for split payments), our payment reference in the remittance text,
   amount within a date window, one of our batches' totals, and a bounded subset-sum
   for the bank's batch lines. What is left is a duplicate or missing on one side;
3. cases resolved by an earlier run's decision (``resolved``), with the items the
   resolution booked (`settlement.reconciliation.stages.resolved`).

Statement lines are numbered across all statements in order (`Reconciliation.entries`);
ledger items keep the order they were given in.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Mapping, Sequence

from settlement.reconciliation.balance_check import check_balances
from settlement.reconciliation.ledger_items import LedgerBalance, LedgerItem, account_number
from settlement.reconciliation.match_accounts import Account, LedgerIndex
from settlement.reconciliation.match_book import Book
from settlement.reconciliation.outcomes import MatchOptions, Reconciliation
from settlement.reconciliation.stages.amount_date import match_by_amount_date
from settlement.reconciliation.stages.ids import ledger_duplicates, match_by_ids
from settlement.reconciliation.stages.ledger_batch import match_by_ledger_batch
from settlement.reconciliation.stages.leftovers import close_leftovers
from settlement.reconciliation.stages.reference import match_by_reference
from settlement.reconciliation.stages.resolved import close_resolved
from settlement.reconciliation.stages.subset_sum import match_by_subset_sum
from settlement.statements.model import Entry, Statement, normalise_account


def reconcile(
    statements: Sequence[Statement],
    items: Sequence[LedgerItem],
    *,
    ledger_balances: Mapping[str, LedgerBalance] | None = None,
    options: MatchOptions | None = None,
    resolved: Mapping[str, str] | None = None,
    identities: Sequence[str] | None = None,
) -> Reconciliation:
    """``ledger_balances`` is keyed by account number as statements name the account;
    ``resolved`` maps case keys to how they were resolved, recognised by the lines'
    lasting names, for which ``identities`` (one per statement) is needed."""
    options = options or MatchOptions()
    entries: list[Entry] = []
    line_statement: array[int] = array("i")
    for position, statement in enumerate(statements):
        entries.extend(statement.entries)
        line_statement.extend(array("i", [position]) * len(statement.entries))
    book = Book(entries, items)
    set_aside = [i for i, item in enumerate(items) if item.resolves is not None]
    for account in _accounts(statements, items, options, set(set_aside)):
        ledger_duplicates(book, account)
        match_by_ids(book, account)
        match_by_reference(book, account, options)
        match_by_amount_date(book, account, options)
        match_by_ledger_batch(book, account, options)
        match_by_subset_sum(book, account, options)
        close_leftovers(book, account, options)
    close_resolved(book, set_aside, resolved or {}, _line_names(statements, line_statement, identities))
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


def _line_names(
    statements: Sequence[Statement], line_statement: array[int], identities: Sequence[str] | None
) -> Callable[[int], str] | None:
    """``<statement identity>#<entry index>`` of a line, as runs record them (computed on
    demand: a day has a million lines and a few cases)."""
    if identities is None:
        return None
    if len(identities) != len(statements):
        raise ValueError("one identity per statement is needed")
    starts = [0]
    for statement in statements:
        starts.append(starts[-1] + len(statement.entries))

    def name(line: int) -> str:
        statement = line_statement[line]
        return f"{identities[statement]}#{line - starts[statement]}"

    return name


def _accounts(
    statements: Sequence[Statement], items: Sequence[LedgerItem], options: MatchOptions, set_aside: set[int]
) -> list[Account]:
    """Lines and items grouped by account number: statement accounts in file order, then
    accounts that only the ledger has (all their items are missing in the bank). Items
    a resolution booked are set aside for the last stage."""
    lines: dict[str, list[int]] = {}
    position = 0
    for statement in statements:
        count = len(statement.entries)
        lines.setdefault(statement.account, []).extend(range(position, position + count))
        position += count
    by_account: dict[str, list[int]] = {}
    numbers: dict[str, str] = {}  # a day has a few accounts and a million items
    for index, item in enumerate(items):
        if set_aside and index in set_aside:
            continue
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
