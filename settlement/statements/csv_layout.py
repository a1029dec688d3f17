"""Bank statement CSV layout, for banks that only export spreadsheets.

The file is UTF-8 (a byte-order mark is allowed), comma-separated, quoted as in
RFC 4180, with a header row. Columns are found by their header name, in any order;
unknown columns are ignored. One row is one entry, or one balance when ``record`` says so.

=====================  ========  ============================================================
column                 required  meaning
=====================  ========  ============================================================
record                 no        ``entry`` (default) or a balance code: ``OPBD``, ``CLBD``,
                                 ``PRCD``, ``OPAV``, ``CLAV``, ``FWAV``, ``ITBD``
account                yes       our account: IBAN or account number (spaces ignored)
statement_id           no        statement identifier; rows are grouped by account and it
                                 (default ``csv``)
currency               yes       ISO 4217 code of ``amount``
amount                 yes       unsigned decimal, ``.`` as decimal mark, no grouping, at
                                 most as many decimals as the currency has; VND has none,
                                 so a VND amount has no point at all (``200.000`` is
                                 refused: in Vietnamese notation it is 200000)
direction              yes       ``CRDT``/``C`` (money in) or ``DBIT``/``D`` (money out); for
                                 a balance: ``CRDT`` in credit, ``DBIT`` overdrawn
booking_date           yes       ``YYYY-MM-DD`` (for a balance: the balance's date)
value_date             no        ``YYYY-MM-DD``
reversal               no        ``true`` when the bank reverses an earlier entry
status                 no        ``BOOK`` (default), ``PDNG`` or ``INFO``
bank_tx_id             no        the bank's reference of the entry
end_to_end_id          no        the payer's end-to-end reference
remittance             no        the transfer note (payment reference, free text)
counterparty_name      no        who paid us, or whom we paid
counterparty_account   no        their account
bank_tx_code           no        the bank's transaction code
charges                no        bank charges taken, unsigned, same currency as ``amount``
batch_id               no        the bank's batch reference, when the entry books a batch
batch_count            no        number of transactions in that batch
=====================  ========  ============================================================
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from settlement.currencies import AmountError, exponent, to_minor
from settlement.statements.errors import StatementError
from settlement.statements.model import (
    Balance,
    BalanceRole,
    Batch,
    Charge,
    Charges,
    Direction,
    Entry,
    Party,
    Statement,
    TxDetail,
    normalise_account,
    reference_or_none,
)

REQUIRED = ("account", "currency", "amount", "direction", "booking_date")
_DIRECTIONS = {"CRDT": Direction.CREDIT, "C": Direction.CREDIT, "DBIT": Direction.DEBIT, "D": Direction.DEBIT}
_ROLES = {
    "OPBD": BalanceRole.OPENING,
    "PRCD": BalanceRole.OPENING,
    "CLBD": BalanceRole.CLOSING,
    "OPAV": BalanceRole.OPENING_AVAILABLE,
    "CLAV": BalanceRole.CLOSING_AVAILABLE,
    "FWAV": BalanceRole.FORWARD_AVAILABLE,
    "ITBD": BalanceRole.INTERIM,
}


def looks_like_csv(head: str) -> bool:
    """A header row naming one of the required columns: the layout is meant, even when
    other required columns are missing (`read_csv` names them)."""
    header = head.lstrip("\ufeff").splitlines()[0] if head.strip() else ""
    names = {name.strip().strip('"').lower() for name in header.split(",")}
    return "," in header and any(column in names for column in REQUIRED)


def read_csv(lines: Iterable[str]) -> Iterator[Statement]:
    reader = csv.DictReader(lines)
    # Header names compare as the layout documents them: lower case, without padding.
    reader.fieldnames = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in reader.fieldnames]
    if missing:
        raise StatementError(
            f"CSV statement lacks the required column(s) {', '.join(missing)}; its header names "
            f"{', '.join(reader.fieldnames) or 'nothing'} (see the documented layout)"
        )
    groups: dict[tuple[str, str], tuple[list[Balance], list[Entry]]] = {}
    for number, row in enumerate(reader, start=2):
        try:
            key = (normalise_account(row["account"] or ""), (row.get("statement_id") or "csv").strip())
            if not key[0]:
                raise ValueError("account is empty")
            balances, entries = groups.setdefault(key, ([], []))
            record = (row.get("record") or "entry").strip().upper()
            if record == "ENTRY":
                entries.append(_entry(row))
            elif record in _ROLES:
                balances.append(_balance(record, row))
            else:
                raise ValueError(f"record {record!r} is neither 'entry' nor a balance code")
        except (AmountError, ValueError, KeyError) as exc:
            raise StatementError(f"CSV line {number}: {exc}") from None
    for (account, statement_id), (balances, entries) in groups.items():
        currency = balances[0].currency if balances else (entries[0].currency if entries else None)
        yield Statement("csv", None, statement_id, account, currency, tuple(balances), tuple(entries))


def _field(row: dict[str, Any], name: str) -> str | None:
    value = row.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _direction(row: dict[str, Any]) -> Direction:
    text = (_field(row, "direction") or "").upper()
    if text not in _DIRECTIONS:
        raise ValueError(f"direction {text!r} must be CRDT or DBIT")
    return _DIRECTIONS[text]


def _date(row: dict[str, Any], name: str) -> date | None:
    text = _field(row, name)
    return date.fromisoformat(text) if text else None


def _currency(row: dict[str, Any]) -> str:
    currency = (_field(row, "currency") or "").upper()
    try:
        exponent(currency)
    except AmountError as exc:
        raise ValueError(f"column currency: {exc}") from None
    return currency


def _amount(row: dict[str, Any], column: str, currency: str) -> int:
    """The column's amount, exactly; the message names the column (the caller adds the line)."""
    try:
        return to_minor(_field(row, column) or "", currency)
    except AmountError as exc:
        raise ValueError(f"column {column}: {exc}") from None


def _balance(code: str, row: dict[str, Any]) -> Balance:
    currency = _currency(row)
    amount = _amount(row, "amount", currency)
    return Balance(code, _ROLES[code], amount * _direction(row).sign(), currency, _date(row, "booking_date"))


def _entry(row: dict[str, Any]) -> Entry:
    currency = _currency(row)
    direction = _direction(row)
    if _field(row, "booking_date") is None:
        raise ValueError("booking_date is empty")
    charges = None
    if _field(row, "charges"):
        charge = Charge(_amount(row, "charges", currency), currency, Direction.DEBIT, None, None)
        charges = Charges(charge.amount_minor, currency, (charge,))
    batch_id, batch_count = _field(row, "batch_id"), _field(row, "batch_count")
    batches = (Batch(None, batch_id, int(batch_count) if batch_count else None, None, None, None),) if batch_id else ()
    name, account = _field(row, "counterparty_name"), _field(row, "counterparty_account")
    detail = TxDetail(
        end_to_end_id=reference_or_none(_field(row, "end_to_end_id")),
        remittance=_field(row, "remittance") or "",
        counterparty=Party(name, account) if name or account else None,
    )
    return Entry(
        amount_minor=_amount(row, "amount", currency),
        currency=currency,
        direction=direction,
        reversal=(_field(row, "reversal") or "").lower() in ("true", "1", "yes"),
        status=(_field(row, "status") or "BOOK").upper(),
        booking_date=_date(row, "booking_date"),
        value_date=_date(row, "value_date"),
        acct_svcr_ref=reference_or_none(_field(row, "bank_tx_id")),
        bank_tx_code=_field(row, "bank_tx_code"),
        charges=charges,
        batches=batches,
        details=(detail,),
    )
