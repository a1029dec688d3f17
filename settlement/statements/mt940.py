"""SWIFT MT940 customer statements, including the German SEPA flavour of field 86.

A file holds one or more messages. Each starts at its ``:20:`` and ends at a line ``-``,
or, in the SWIFT envelope ``{1:..}{2:..}{3:..}{4:`` .. ``-}{5:..}``, at the ``-}`` that
closes block 4, whatever follows it on the same line (``-}{5:..}{1:..}{2:..}{4:``); a
bank that leaves out the terminator still gets one message per ``:20:``. Lines outside a
field (bank header lines such as ``ABNANL2A`` / ``940``, blank lines) are ignored. A
message without its opening (``:60F:``/``:60M:``) or closing (``:62F:``/``:62M:``)
balance is refused by name, and so is an MT942 interim report. Fields read:

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
_BLOCK_2 = re.compile(r"\{2:[IO](\d{3})")
_SUBFIELD = re.compile(r"\?(\d\d)")
_SEPA_KEY = re.compile(r"(EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE|IBAN|BIC)\+")
_NEW_KEY = re.compile(r"^[A-Z]{4}[+:]")
_MT942_TAGS = frozenset({"34F", "13D", "90D", "90C"})  # floor limit, date-time, entry counts of an MT942
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
    message_type: str | None = None  # from the envelope's block 2, e.g. "940" or "942"


def read_mt940(lines: Iterable[str]) -> Iterator[Statement]:
    for number, message in enumerate(_Splitter().messages(lines), start=1):
        reference = next((lines[0].strip() for tag, lines in message.fields if tag == "20"), "")
        try:
            yield _statement(message)
        except (AmountError, ValueError) as exc:
            named = f" (:20: {reference})" if reference else ""
            raise StatementError(f"MT940 message {number}{named}: {exc}") from None


class _Splitter:
    """Lines into messages. Outside an envelope's block 4 (``{1:..}{2:..}{3:..}{4:``)
    everything is header; inside it (or in a file without envelopes) lines are fields. A
    message ends at a line ``-``, at ``-}`` (which the next envelope's blocks may follow on
    the same line: ``-}{5:..}{1:..``), at the next envelope, or at the next ``:20:``."""

    def __init__(self) -> None:
        self.message = _Message()
        self.in_header = False  # between an envelope's "-}" and the next "{4:"
        self.message_type: str | None = None
        self.done: list[_Message] = []

    def messages(self, lines: Iterable[str]) -> Iterator[_Message]:
        for raw in lines:
            self._line(raw.rstrip("\r\n"))
            yield from self.done
            self.done.clear()
        self._end()
        yield from self.done

    def _end(self) -> None:
        if self.message.fields:
            self.done.append(self.message)
        self.message = _Message(message_type=self.message_type)

    def _header(self, text: str) -> None:
        found = _BLOCK_2.search(text)
        if found:
            self.message_type = self.message.message_type = found.group(1)
        start = text.find("{4:")
        self.in_header = start < 0
        if start >= 0 and text[start + 3 :].strip():
            self._line(text[start + 3 :])

    def _line(self, line: str) -> None:
        if self.in_header:
            self._header(line)
        elif line.startswith("-}"):
            self._end()
            self._header(line[2:])
        elif line.strip() == "-":
            self._end()
        elif line.lstrip().startswith("{1:") or "{4:" in line:
            self._end()  # a new envelope without the previous one's terminator
            self._header(line)
        else:
            self._field(line)

    def _field(self, line: str) -> None:
        fields = self.message.fields
        tag = _TAG.match(line)
        if tag:
            if tag.group(1) == "20" and fields:
                self._end()  # :20: opens every message, terminated or not
                fields = self.message.fields
            fields.append((tag.group(1), [tag.group(2)]))
        elif fields and line.strip() and fields[-1][0] in ("61", "86"):
            fields[-1][1].append(line)


def _refuse_incomplete(message: _Message) -> None:
    """An MT942 (interim report) is not a statement; an MT940 without its balances is cut short."""
    tags = {tag for tag, _ in message.fields}
    if message.message_type == "942" or tags & _MT942_TAGS:
        raise ValueError(
            "this is an MT942 interim transaction report (intraday, no opening or closing balance), "
            "not an MT940 statement: reconcile the day's MT940 or camt.053 instead"
        )
    if not tags & {"60F", "60M"}:
        raise ValueError("no opening balance :60F: (or :60M:): the statement is incomplete")
    if not tags & {"62F", "62M"}:
        raise ValueError("no closing balance :62F: (or :62M:): the statement is incomplete or cut short")


def _statement(message: _Message) -> Statement:
    _refuse_incomplete(message)
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
