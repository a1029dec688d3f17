"""ISO 20022 camt.053 (statements) and camt.054 (debit/credit notifications), streamed.

Versions .001.02 to .001.08 are read (and tested); the version is taken from the
document's namespace, and later versions are accepted as long as they keep these
element names. Parsing is a single `lxml.etree.iterparse` pass that
only reports the elements we act on (statement, account, balance, entry); each entry
is read as soon as it ends and then cleared and unlinked together with everything
before it, so memory holds one entry's subtree at a time however long the file is.

Fields are found by walking an element's children and mapping each child's tag to its
local name with one dict lookup. Namespaced ``findtext`` per field walks the children
again for every field and costs several times more on a million entries.

The parser neither loads DTDs nor expands entities nor touches the network, and a
document that declares a DTD at all is refused, saying so: statements come from outside,
and an entity left unexpanded would silently drop text (``ID-&x;-END`` read as ``ID-``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date
from typing import IO, Any

from lxml import etree

from settlement.currencies import AmountError, to_minor
from settlement.statements.camt_details import DetailReader
from settlement.statements.errors import StatementError
from settlement.statements.model import (
    Balance,
    BalanceRole,
    Batch,
    Direction,
    Entry,
    Statement,
    TxDetail,
    normalise_account,
    reference_or_none,
)
from settlement.statements.xml_guard import refuse_dtd, root_namespace

_NAMESPACE = re.compile(rb"urn:iso:std:iso:20022:tech:xsd:camt\.(05[34])\.001\.(\d\d)")
_ROLES = {
    "OPBD": BalanceRole.OPENING,
    "PRCD": BalanceRole.OPENING,
    "CLBD": BalanceRole.CLOSING,
    "OPAV": BalanceRole.OPENING_AVAILABLE,
    "CLAV": BalanceRole.CLOSING_AVAILABLE,
    "FWAV": BalanceRole.FORWARD_AVAILABLE,
}
_CONTAINER = {"053": "Stmt", "054": "Ntfctn"}


def camt_namespace(head: bytes) -> tuple[str, str, str] | None:
    """``(kind, version, namespace)`` of a camt.053/054 document, from the namespace of its
    root element in the first bytes (a camt namespace elsewhere, say in a schemaLocation,
    does not make a document camt)."""
    namespace = root_namespace(head)
    found = _NAMESPACE.fullmatch(namespace.encode()) if namespace else None
    if found is None:
        return None
    message, version = found.group(1).decode(), found.group(2).decode()
    return f"camt.{message}", f"001.{version}", found.group(0).decode()


def read_camt(stream: IO[bytes], kind: str, version: str, namespace: str) -> Iterator[Statement]:
    """The statements of a camt.053/054 document, one at a time, entries streamed in."""
    reader = DetailReader(namespace)
    local = reader.local
    container = _CONTAINER[kind[-3:]]
    tags = [f"{{{namespace}}}{name}" for name in (container, "Acct", "Bal", "Ntry")]
    header: dict[str, Any] = {}
    undated: date | None = None  # the day of an entry without BookgDt (camt.054 only)
    sent = ""  # GrpHdr/CreDtTm, for a notification without its own CreDtTm
    balances: list[Balance] = []
    entries: list[Entry] = []
    events = etree.iterparse(
        stream,
        events=("end",),
        tag=tags,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        remove_blank_text=True,
    )
    checked = False
    try:
        for _, element in events:
            if not checked:
                refuse_dtd(element)  # the DOCTYPE precedes every element: one look suffices
                checked = True
            name = local(element.tag)
            if name == "Ntry":
                entries.append(_entry(reader, element, len(entries) + 1, undated))
                _release(element)
                continue
            if name == container:
                yield _statement(kind, version, header, balances, entries)
                header, balances, entries, undated = {}, [], [], None
                _release(element)
                continue
            parent = element.getparent()
            if parent is None or local(parent.tag) != container:
                continue  # an Acct or Bal nested deeper than the statement is not ours
            if name == "Acct":
                header = _header(local, element)
                sent = sent or _group_created(local, parent)
                undated = _notified_on(kind, header.get("CreDtTm") or sent)
            else:
                balances.append(_balance(reader, element))
    except etree.XMLSyntaxError as exc:
        raise StatementError(f"{kind} is not well-formed XML: {exc}") from None
    except AmountError as exc:
        raise StatementError(f"{kind} entry {len(entries) + 1}: {exc}") from None


def _release(element: Any) -> None:
    """Free what was already read: the element's content and its earlier siblings."""
    element.clear(keep_tail=True)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def _header(local: Callable[[str], str | None], account: Any) -> dict[str, Any]:
    """Statement fields that precede Acct (Id, ElctrncSeqNb, CreDtTm, FrToDt) and Acct's own."""
    header: dict[str, Any] = {}
    for child in account.getparent():
        name = local(child.tag)
        if name in ("Id", "ElctrncSeqNb", "CreDtTm"):
            header[name] = (child.text or "").strip()
        elif name == "FrToDt":
            for bound in child:
                header[local(bound.tag) or ""] = (bound.text or "")[:10]
    for child in account:
        name = local(child.tag)
        if name == "Id":
            header["account"] = DetailReader.account_id(local, child)
        elif name == "Ccy":
            header["currency"] = (child.text or "").strip()
        elif name == "Svcr":
            header["servicer"] = next((t for t in child.itertext() if t.strip()), "").strip() or None
    return header


def _statement(
    kind: str, version: str, header: dict[str, Any], balances: list[Balance], entries: list[Entry]
) -> Statement:
    if not header.get("account"):
        raise StatementError(f"{kind} statement {header.get('Id', '?')!r} has no account identification")
    currency = header.get("currency") or next((b.currency for b in balances), None)
    if currency is None and entries:
        currency = entries[0].currency
    first, last = header.get("FrDtTm"), header.get("ToDtTm")
    return Statement(
        kind=kind,
        version=version,
        statement_id=header.get("Id") or "",
        account=normalise_account(header["account"]),
        currency=currency,
        balances=tuple(balances),
        entries=tuple(entries),
        sequence=header.get("ElctrncSeqNb") or None,
        created_at=header.get("CreDtTm") or None,
        period_from=date.fromisoformat(first) if first else None,
        period_to=date.fromisoformat(last) if last else None,
        servicer=header.get("servicer"),
    )


def _balance(reader: DetailReader, element: Any) -> Balance:
    local = reader.local
    code = amount = currency = direction = None
    when = None
    for child in element:
        name = local(child.tag)
        if name == "Tp":
            code = next((t.strip() for t in child.itertext() if t.strip()), None)
        elif name == "Amt":
            amount, currency = child.text, child.get("Ccy")
        elif name == "CdtDbtInd":
            direction = child.text
        elif name == "Dt":
            when = reader.date(child)
    if code is None or amount is None or currency is None or direction not in ("CRDT", "DBIT"):
        raise StatementError(f"balance {code or '?'} lacks its type, amount, currency or CdtDbtInd")
    try:
        value = to_minor(amount, currency)
    except AmountError as exc:
        raise StatementError(f"balance {code}: {exc}") from None
    return Balance(
        code, _ROLES.get(code, BalanceRole.INTERIM), value if direction == "CRDT" else -value, currency, when
    )


def _group_created(local: Callable[[str], str | None], container: Any) -> str:
    """GrpHdr/CreDtTm, read while the group header is still in the tree (the first statement)."""
    document = container.getparent()
    for group in document if document is not None else ():
        if local(group.tag) == "GrpHdr":
            return next(((c.text or "").strip() for c in group if local(c.tag) == "CreDtTm"), "")
    return ""


def _notified_on(kind: str, created: str) -> date | None:
    """A notification reports entries as the bank books them: one without BookgDt (it is
    optional) is booked on its ValDt, else on the day the notification was created (its
    CreDtTm, else the message's, in the bank's own offset). A statement has FrToDt and
    dated balances instead."""
    if kind != "camt.054" or not created:
        return None
    try:
        return date.fromisoformat(created[:10])
    except ValueError:
        raise StatementError(f"{kind} notification: CreDtTm {created!r} is no date") from None


def _entry(reader: DetailReader, ntry: Any, number: int, undated: date | None) -> Entry:
    """One Ntry. Plain locals rather than a dict of fields: this runs a million times."""
    local = reader.local
    amount = currency = direction = status = svcr = code = entry_ref = reversal = info = None
    booked = valued = charges = instructed = None
    batches: list[Batch] = []
    details: list[TxDetail] = []
    for child in ntry:
        name = local(child.tag)
        if name == "Amt":
            currency = reader.intern(child.get("Ccy") or "")
            amount = child.text
        elif name == "CdtDbtInd":
            direction = child.text
        elif name == "Sts":
            status = reader.status(child)
        elif name == "BookgDt":
            booked = reader.date(child)
        elif name == "ValDt":
            valued = reader.date(child)
        elif name == "AcctSvcrRef":
            svcr = reference_or_none(child.text)
        elif name == "BkTxCd":
            code = reader.tx_code(child)
        elif name == "NtryDtls":
            reader.entry_details(child, batches, details)
        elif name == "NtryRef":
            entry_ref = reference_or_none(child.text)
        elif name == "RvslInd":
            reversal = (child.text or "").strip() in ("true", "1")
        elif name == "AddtlNtryInf":
            info = child.text
        elif name == "AmtDtls":
            instructed = reader.instructed(child)
        elif name == "Chrgs":
            charges = reader.charges(child, charges)
    if currency is None or amount is None or direction not in ("CRDT", "DBIT"):
        raise StatementError(f"entry {number} lacks its amount, currency or CdtDbtInd")
    if booked is None and undated is not None:
        booked = valued or undated
    return Entry(
        to_minor(amount, currency),
        currency,
        Direction.CREDIT if direction == "CRDT" else Direction.DEBIT,
        bool(reversal),
        status or "BOOK",
        booked,
        valued,
        entry_ref,
        svcr,
        code,
        charges,
        tuple(batches),
        tuple(details),
        info,
        instructed[0] if instructed else None,
        instructed[1] if instructed else None,
    )
