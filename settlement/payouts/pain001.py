"""Payout instructions as ISO 20022 pain.001.001.09 (customer credit transfer initiation).

One file per payout run: one payment information block debiting our account, one credit
transfer per settlement batch, whose EndToEndId comes back on the bank statement so the
debit can be matched to its batch. Amounts are whole đồng (VND has no decimals).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from xml.etree import ElementTree as ET

from domain.model.errors import InvalidValue, NotFound
from settlement.payouts.batches import SettlementBatch
from settlement.payouts.napas_banks import napas_bank

PAIN_001_NS = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"
# Max70Text: the name length that pain.001 implementation guides (EPC, CBPR+, the banks'
# own) accept, although the schema's Nm allows 140; a longer name is refused, never cut.
NAME_MAX = 70
_REMITTANCE_MAX = 140
_BIN = re.compile(r"[0-9]{6}")
_ACCOUNT = re.compile(r"[0-9A-Za-z]{1,19}")  # NAPAS: up to 19 letters or digits
# The Latin character set of pain.001 guides, with the letters of Vietnamese (any letter of
# the Latin script, so ư, ơ, đ and the tone marks pass): no control characters, no markup.
_NAME_PUNCTUATION = frozenset(" /-?:().,'+")


def _name_refused(name: str) -> list[str]:
    """The characters outside that set, each once, in the order they appear."""
    return list(
        dict.fromkeys(
            ch
            for ch in name
            if not (ch.isascii() and ch.isalnum())
            and ch not in _NAME_PUNCTUATION
            and not (ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN "))
        )
    )


def account_problems(bank_bin: object, account_no: object, name: object) -> list[str]:
    """What is wrong with a bank account as a payout's debtor or creditor (empty when nothing)."""
    problems = []
    if not isinstance(bank_bin, str) or not _BIN.fullmatch(bank_bin):
        problems.append(f"bank_bin {bank_bin!r} is not a 6-digit BIN")
    elif napas_bank(bank_bin) is None:
        problems.append(
            f"bank_bin {bank_bin} is not a NAPAS member bank (settlement/payouts/napas_banks.py lists them)"
        )
    if not isinstance(account_no, str) or not _ACCOUNT.fullmatch(account_no):
        problems.append(f"account_no {account_no!r} is not 1-19 letters or digits")
    if not isinstance(name, str) or not name.strip():
        problems.append("name is empty")
    elif len(name) > NAME_MAX:
        problems.append(f"name is {len(name)} characters, at most {NAME_MAX} fit a pain.001 payee name")
    elif refused := _name_refused(name):
        shown = " ".join(repr(ch) for ch in refused)
        problems.append(
            f"name has characters a pain.001 name cannot carry ({shown}); "
            "use letters, digits, spaces and / - ? : ( ) . , ' +"
        )
    return problems


@dataclass(frozen=True, slots=True)
class BankAccount:
    """Where a payout is sent from or to; valid by construction (`account_problems`).
    Names are kept in NFC, so a name typed with combining marks counts as it prints."""

    bank_bin: str
    account_no: str
    name: str

    def __post_init__(self) -> None:
        if isinstance(self.name, str):
            object.__setattr__(self, "name", unicodedata.normalize("NFC", self.name.strip()))
        problems = account_problems(self.bank_bin, self.account_no, self.name)
        if problems:
            raise InvalidValue("; ".join(problems))


class PayeeDirectory:
    """Where each payee (``payable:<kind>:<id>`` account) is paid."""

    def __init__(self, accounts: Mapping[str, BankAccount]) -> None:
        self._accounts = dict(accounts)

    def __getitem__(self, payee_account: str) -> BankAccount:
        try:
            return self._accounts[payee_account]
        except KeyError:
            raise NotFound(f"no bank account on file for {payee_account}") from None


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{PAIN_001_NS}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def _account(parent: ET.Element, tag: str, account: BankAccount) -> None:
    _sub(_sub(_sub(_sub(parent, tag), "Id"), "Othr"), "Id", account.account_no)


def _agent(parent: ET.Element, tag: str, account: BankAccount) -> None:
    # NAPAS member banks are identified by their 6-digit BIN.
    _sub(_sub(_sub(_sub(parent, tag), "FinInstnId"), "Othr"), "Id", account.bank_bin)


def payout_instruction(
    *,
    message_id: str,
    created_at: datetime,
    execution_date: date,
    debtor: BankAccount,
    batches: Sequence[SettlementBatch],
    payees: PayeeDirectory,
) -> bytes:
    if not batches:
        raise InvalidValue("a payout instruction needs at least one batch")
    if not 1 <= len(message_id) <= 35:
        raise InvalidValue("message_id must be 1-35 characters")
    ET.register_namespace("", PAIN_001_NS)
    root = ET.Element(f"{{{PAIN_001_NS}}}Document")
    initiation = _sub(root, "CstmrCdtTrfInitn")
    total = str(sum(b.net_vnd for b in batches))
    header = _sub(initiation, "GrpHdr")
    _sub(header, "MsgId", message_id)
    _sub(header, "CreDtTm", created_at.isoformat(timespec="seconds"))
    _sub(header, "NbOfTxs", str(len(batches)))
    _sub(header, "CtrlSum", total)
    _sub(_sub(header, "InitgPty"), "Nm", debtor.name)

    info = _sub(initiation, "PmtInf")
    _sub(info, "PmtInfId", message_id)
    _sub(info, "PmtMtd", "TRF")
    _sub(info, "NbOfTxs", str(len(batches)))
    _sub(info, "CtrlSum", total)
    _sub(_sub(info, "ReqdExctnDt"), "Dt", execution_date.isoformat())
    _sub(_sub(info, "Dbtr"), "Nm", debtor.name)
    _account(info, "DbtrAcct", debtor)
    _agent(info, "DbtrAgt", debtor)
    for batch in sorted(batches, key=lambda b: b.end_to_end_id):
        payee = payees[batch.payee_account]
        tx = _sub(info, "CdtTrfTxInf")
        ids = _sub(tx, "PmtId")
        _sub(ids, "InstrId", batch.end_to_end_id)
        _sub(ids, "EndToEndId", batch.end_to_end_id)
        _sub(_sub(tx, "Amt"), "InstdAmt", str(batch.net_vnd), Ccy="VND")
        _agent(tx, "CdtrAgt", payee)
        _sub(_sub(tx, "Cdtr"), "Nm", payee.name)
        _account(tx, "CdtrAcct", payee)
        remittance = f"Settlement {batch.business_date.isoformat()} #{batch.sequence} {batch.end_to_end_id}"
        _sub(_sub(tx, "RmtInf"), "Ustrd", remittance[:_REMITTANCE_MAX])
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document
