"""SWIFT MT940 customer statements, including the German SEPA flavour of field 86.

A file holds one or more messages, each ended by a line ``-`` (or ``-}`` in the
``{1:..}{2:..}{4:`` block format); lines outside a field (bank header lines such as
``ABNANL2A`` / ``940``, blank lines) are ignored. Fields read:

- ``:20:`` reference, ``:25:`` account, ``:28:``/``:28C:`` statement/sequence number;
- ``:60F:``/``:60M:`` opening (final/intermediate), ``:62F:``/``:62M:`` closing,
  ``:64:`` closing available, ``:65:`` forward available balances;
- ``:61:`` statement line: value date, optional entry (booking) date, mark ``C``/``D``/
  ``RC``/``RD``, optional funds code, amount with a decimal comma, transaction type,
  customer reference ``//`` bank reference, optional second line of details;
- ``:86:`` information to the account owner; when structured (``NNN?00..?20..``) its
  subfields give the posting text, remittance (``?20``-``?29``, ``?60``-``?63``, with
  SEPA keys ``EREF+``, ``KREF+``, ``MREF+``, ``SVWZ+``), counterparty (``?30``-``?33``) and
  return reason (``?34``).

``RC`` (reversal of a credit) moves money out and ``RD`` moves it in, so the entry's
direction is DBIT/CRDT respectively and ``reversal`` is set: that is how the balances of
the German SEPA sample add up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from settlement.currencies import AmountError, to_minor
from settlement.statements.errors import StatementError
from settlement.statements.model import (
    Balance,
    BalanceRole,
    Direction,
    Entry,
    Party,
    Statement,
    TxDetail,
    normalise_account,
    reference_or_none,
)

_TAG = re.compile(r"^:(\d\d[A-Z]?):(.*)$")
_LINE = re.compile(
    r"^(?P<value>\d{6})(?P<entry>\d{4})?(?P<mark>RC|RD|C|D)(?P<funds>[A-Z])?(?P<amount>\d[\d,]*)"
    r"(?P<type>[NFS][A-Z0-9]{3})(?P<customer>.*?)(?://(?P<bank>.*))?$"
)
_BALANCE = re.compile(r"^(?P<mark>[CD])(?P<date>\d{6})(?P<currency>[A-Z]{3})(?P<amount>\d[\d,]*)$")
_SUBFIELD = re.compile(r"\?(\d\d)")
_SEPA_KEY = re.compile(r"(EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE|IBAN|BIC)\+")
_NEW_KEY = re.compile(r"^[A-Z]{4}[+:]")
_BALANCE_TAGS = {
    "60F": ("OPBD", BalanceRole.OPENING),
    "60M": ("ITBD", BalanceRole.OPENING),
    "62F": ("CLBD", BalanceRole.CLOSING),
    "62M": ("ITBD", BalanceRole.CLOSING),
    "64": ("CLAV", BalanceRole.CLOSING_AVAILABLE),
    "65": ("FWAV", BalanceRole.FORWARD_AVAILABLE),
}


@dataclass
class _Message:
    fields: list[tuple[str, list[str]]] = field(default_factory=list)


def read_mt940(lines: Iterable[str]) -> Iterator[Statement]:
    for number, message in enumerate(_messages(lines), start=1):
        try:
            yield _statement(message)
        except (AmountError, ValueError) as exc:
            raise StatementError(f"MT940 message {number}: {exc}") from None


def _messages(lines: Iterable[str]) -> Iterator[_Message]:
    """Group lines into fields and fields into messages; a field continues on every
    following line that does not start a new field."""
    message = _Message()
    for raw in lines:
        line = raw.rstrip("\r\n")
        if "{4:" in line:
            line = line.split("{4:", 1)[1]
        if line.strip() in ("-", "-}"):
            if message.fields:
                yield message
            message = _Message()
            continue
        tag = _TAG.match(line)
        if tag:
            message.fields.append((tag.group(1), [tag.group(2)]))
        elif message.fields and line.strip() and message.fields[-1][0] in ("61", "86"):
            message.fields[-1][1].append(line)
    if message.fields:
        yield message


def _statement(message: _Message) -> Statement:
    reference = account = sequence = ""
    balances: list[Balance] = []
    entries: list[Entry] = []
    for index, (tag, lines) in enumerate(message.fields):
        if tag == "20":
            reference = lines[0].strip()
        elif tag == "25":
            account = lines[0].strip()
        elif tag in ("28", "28C"):
            sequence = lines[0].strip()
        elif tag in _BALANCE_TAGS:
            balances.append(_balance(tag, lines[0]))
        elif tag == "61":
            following = message.fields[index + 1] if index + 1 < len(message.fields) else None
            info = following[1] if following is not None and following[0] == "86" else []
            entries.append(_entry(lines, info, balances[0].currency if balances else None))
    if not account:
        raise ValueError("no :25: account identification")
    currency = balances[0].currency if balances else (entries[0].currency if entries else None)
    return Statement(
        kind="mt940",
        version=None,
        statement_id=f"{reference}/{sequence}" if sequence else reference,
        account=normalise_account(account),
        currency=currency,
        balances=tuple(balances),
        entries=tuple(entries),
        sequence=sequence or None,
    )


def _yymmdd(text: str) -> date:
    # SWIFT years are two digits; statements are from this century.
    return date(2000 + int(text[:2]), int(text[2:4]), int(text[4:6]))


def _amount(field_name: str, text: str, currency: str) -> int:
    """SWIFT amounts: a mandatory decimal comma, at most the currency's decimals after it."""
    try:
        return to_minor(text, currency, decimal_mark=",")
    except AmountError as exc:
        raise ValueError(f"{field_name} {exc}") from None


def _balance(tag: str, text: str) -> Balance:
    found = _BALANCE.match(text.strip())
    if found is None:
        raise ValueError(f":{tag}: balance {text!r} is malformed")
    code, role = _BALANCE_TAGS[tag]
    currency = found.group("currency")
    amount = _amount(f":{tag}:", found.group("amount"), currency)
    signed = amount if found.group("mark") == "C" else -amount
    return Balance(code, role, signed, currency, _yymmdd(found.group("date")))


def _entry(lines: list[str], info: list[str], currency: str | None) -> Entry:
    found = _LINE.match(lines[0].strip())
    if found is None or currency is None:
        raise ValueError(f":61: line {lines[0]!r} is malformed or precedes the opening balance")
    value_date = _yymmdd(found.group("value"))
    booking_date = value_date
    if found.group("entry"):
        month, day = int(found.group("entry")[:2]), int(found.group("entry")[2:])
        year = value_date.year + (1 if month < value_date.month - 6 else -1 if month > value_date.month + 6 else 0)
        booking_date = date(year, month, day)
    mark = found.group("mark")
    direction = Direction.CREDIT if mark in ("C", "RD") else Direction.DEBIT
    bank_ref = reference_or_none(found.group("bank"))
    customer_ref = reference_or_none(found.group("customer"))
    detail = _details(info, customer_ref)
    extra = " ".join(line.strip() for line in lines[1:])
    return Entry(
        amount_minor=_amount(":61:", found.group("amount"), currency),
        currency=currency,
        direction=direction,
        reversal=mark in ("RC", "RD"),
        booking_date=booking_date,
        value_date=value_date,
        entry_ref=customer_ref,
        acct_svcr_ref=bank_ref,
        bank_tx_code=found.group("type"),
        details=(detail,),
        additional_info=extra or None,
    )


def _details(info: list[str], customer_ref: str | None) -> TxDetail:
    text = info[0] if info else ""
    structured = re.match(r"^\d{3}\?", text) is not None
    if not structured:
        return TxDetail(remittance=" ".join(line.strip() for line in info), tx_id=customer_ref)
    # Structured :86: wraps at 65 characters anywhere, even inside "?2" + "0": join as is.
    joined = "".join(info)
    subfields: dict[str, list[str]] = {}
    parts = _SUBFIELD.split(joined[3:])
    for code, value in zip(parts[1::2], parts[2::2], strict=True):
        subfields.setdefault(code, []).append(value)
    remittance = _remittance(
        [v for code in sorted(subfields) if "20" <= code <= "29" or "60" <= code <= "63" for v in subfields[code]]
    )
    sepa = _sepa_fields(remittance)
    name = "".join(subfields.get("32", []) + subfields.get("33", [])).strip() or None
    account = "".join(subfields.get("31", [])).strip() or None
    return TxDetail(
        end_to_end_id=reference_or_none(sepa.get("EREF")),
        mandate_id=reference_or_none(sepa.get("MREF")),
        tx_id=reference_or_none(sepa.get("KREF")) or customer_ref,
        remittance=(sepa.get("SVWZ") or remittance).strip(),
        counterparty=Party(name, account) if name or account else None,
        bank_tx_code=f"GVC{text[:3]}",
        return_reason=("".join(subfields["34"]).strip() or None) if "34" in subfields else None,
        additional_info="".join(subfields.get("00", [])).strip() or None,
    )


def _remittance(values: list[str]) -> str:
    """Subfields continue each other mid-word, except where one opens a new key
    (``SVWZ+``, ``MTLG:``): only there does a space go in, so a key's value ends."""
    text = ""
    for value in values:
        text += (" " if text and _NEW_KEY.match(value) else "") + value
    return text


def _sepa_fields(remittance: str) -> dict[str, str]:
    """``EREF+abc SVWZ+text`` -> {"EREF": "abc", "SVWZ": "text"}; text before any key is SVWZ."""
    pieces = _SEPA_KEY.split(remittance)
    found: dict[str, str] = {}
    if pieces[0].strip():
        found["SVWZ"] = pieces[0]
    for key, value in zip(pieces[1::2], pieces[2::2], strict=True):
        found[key] = found.get(key, "") + value
    # A value ends where a bank's own label (``MTLG:``) starts after a subfield break.
    return {k: re.split(r"\s[A-Z]{4}:", v, maxsplit=1)[0].strip() for k, v in found.items()}
