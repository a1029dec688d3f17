"""The bank's side of the demo day: every credit Vietcombank booked on our accounts, the
notifications it sent (or failed to send) us, and the camt.053 statement it writes.

A `Booking` is one credit the bank booked. The demo delivers its notification to the
service (`credit_bank_transfer`, as the bank connector's webhook does) unless the
scenario says it was lost; the statement lists every booking of the day once, except
where the scenario plants what real statements bring: a line repeated, a line whose
amount is not the one notified. Deposits of attendants' cash are bookings too (their
slip number is the reference). What the scenario planted is counted in `Planted`, and
the reconciliation run of the day must show exactly those exceptions.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from lxml import etree

from ops.demo.day import HANOI

CAMT053 = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
VIETCOMBANK_BIC = "BFTVVNVX"


@dataclass(frozen=True, slots=True)
class Booking:
    account_no: str
    bank_tx_id: str
    amount_vnd: int
    note: str
    booked_at: datetime
    payer: str
    payer_account: str
    statement_amount_vnd: int | None = None  # the amount the statement shows, when not the notified one
    repeated: bool = False  # the statement lists it twice

    @property
    def on_statement_vnd(self) -> int:
        return self.amount_vnd if self.statement_amount_vnd is None else self.statement_amount_vnd


@dataclass
class Bank:
    """Vietcombank, as far as the demo needs it: what it booked, and what the demo planted."""

    day: date
    bookings: list[Booking] = field(default_factory=list)
    planted: Counter[str] = field(default_factory=Counter)

    def book(self, booking: Booking) -> Booking:
        self.bookings.append(booking)
        return booking

    def plant(self, category: str, count: int = 1) -> None:
        self.planted[category] += count

    def statement_lines(self, account_no: str) -> list[Booking]:
        lines = []
        for booking in sorted(self.of_day(account_no), key=lambda b: (b.booked_at, b.bank_tx_id)):
            lines.append(booking)
            if booking.repeated:
                lines.append(booking)
        return lines

    def of_day(self, account_no: str) -> list[Booking]:
        return [
            b for b in self.bookings if b.account_no == account_no and b.booked_at.astimezone(HANOI).date() == self.day
        ]


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{CAMT053}}}{tag}", attributes)
    if text is not None:
        element.text = text
    return element


def _path(parent: etree._Element, tags: str, text: str) -> etree._Element:
    element = parent
    for tag in tags.split("/"):
        element = _sub(element, tag)
    element.text = text
    return element


def _balance(stmt: etree._Element, code: str, amount_vnd: int, day: date) -> None:
    balance = _sub(stmt, "Bal")
    _path(balance, "Tp/CdOrPrtry/Cd", code)
    _sub(balance, "Amt", str(abs(amount_vnd)), Ccy="VND")
    _sub(balance, "CdtDbtInd", "CRDT" if amount_vnd >= 0 else "DBIT")
    _path(balance, "Dt/Dt", day.isoformat())


def _entry(stmt: etree._Element, booking: Booking) -> None:
    entry = _sub(stmt, "Ntry")
    amount = str(booking.on_statement_vnd)
    _sub(entry, "Amt", amount, Ccy="VND")
    _sub(entry, "CdtDbtInd", "CRDT")
    _path(entry, "Sts/Cd", "BOOK")
    _path(entry, "BookgDt/DtTm", booking.booked_at.isoformat())
    _path(entry, "ValDt/Dt", booking.booked_at.astimezone(HANOI).date().isoformat())
    _sub(entry, "AcctSvcrRef", booking.bank_tx_id)
    code = _sub(_sub(entry, "BkTxCd"), "Domn")
    _sub(code, "Cd", "PMNT")
    family = _sub(code, "Fmly")
    _sub(family, "Cd", "RCDT")
    _sub(family, "SubFmlyCd", "DMCT")
    details = _sub(_sub(entry, "NtryDtls"), "TxDtls")
    refs = _sub(details, "Refs")
    _sub(refs, "AcctSvcrRef", booking.bank_tx_id)
    _sub(refs, "EndToEndId", "NOTPROVIDED")
    _sub(details, "Amt", amount, Ccy="VND")
    _sub(details, "CdtDbtInd", "CRDT")
    parties = _sub(details, "RltdPties")
    _path(parties, "Dbtr/Pty/Nm", booking.payer)
    _path(parties, "DbtrAcct/Id/Othr/Id", booking.payer_account)
    _path(details, "RmtInf/Ustrd", booking.note)


def write_camt053(bank: Bank, accounts: list[str], created_at: datetime) -> bytes:
    """The day's statement of each account (one ``Stmt`` each), opening at zero: the
    accounts were opened for the scheme, and the demo day is their first."""
    document = etree.Element(f"{{{CAMT053}}}Document", nsmap={None: CAMT053})
    root = _sub(document, "BkToCstmrStmt")
    header = _sub(root, "GrpHdr")
    _sub(header, "MsgId", f"VCB{bank.day:%Y%m%d}STMT")
    _sub(header, "CreDtTm", created_at.isoformat())
    for number, account_no in enumerate(accounts, start=1):
        lines = bank.statement_lines(account_no)
        stmt = _sub(root, "Stmt")
        _sub(stmt, "Id", f"{account_no}-{bank.day:%Y%m%d}")
        _sub(stmt, "ElctrncSeqNb", str(number))
        _sub(stmt, "CreDtTm", created_at.isoformat())
        period = _sub(stmt, "FrToDt")
        _sub(period, "FrDtTm", datetime.combine(bank.day, datetime.min.time(), HANOI).isoformat())
        end = datetime.combine(bank.day + timedelta(days=1), datetime.min.time(), HANOI) - timedelta(seconds=1)
        _sub(period, "ToDtTm", end.isoformat())
        account = _sub(stmt, "Acct")
        _path(account, "Id/Othr/Id", account_no)
        _sub(account, "Ccy", "VND")
        _path(account, "Svcr/FinInstnId/BICFI", VIETCOMBANK_BIC)
        _balance(stmt, "OPBD", 0, bank.day - timedelta(days=1))
        _balance(stmt, "CLBD", sum(line.on_statement_vnd for line in lines), bank.day)
        summary = _sub(stmt, "TxsSummry")
        credits = _sub(summary, "TtlCdtNtries")
        _sub(credits, "NbOfNtries", str(len(lines)))
        _sub(credits, "Sum", str(sum(line.on_statement_vnd for line in lines)))
        for line in lines:
            _entry(stmt, line)
    return bytes(etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True))
