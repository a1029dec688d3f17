"""Reading the inside of a camt entry: transaction details, batches, charges, parties.

Every method walks an element's children once and maps tags to local names with one
dict lookup (see `settlement.statements.camt` for why). Versions differ in small ways
that are handled here: the transaction amount moved from ``AmtDtls/TxAmt/Amt`` (v2) to
``TxDtls/Amt`` (v3+), a party's name from ``Dbtr/Nm`` to ``Dbtr/Pty/Nm`` (v8+), and the
status from ``<Sts>BOOK</Sts>`` to ``<Sts><Cd>BOOK</Cd></Sts>`` (v8+).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from settlement.currencies import to_minor
from settlement.statements.model import Batch, Charge, Charges, Direction, Party, TxDetail, reference_or_none

_NAMES = (  # noqa: SIM905 - one string reads better than seventy one-word lines
    "GrpHdr Stmt Ntfctn Acct Bal Ntry Id Ccy Svcr ElctrncSeqNb CreDtTm FrToDt FrDtTm ToDtTm Tp Amt CdtDbtInd Dt DtTm "
    "RvslInd Sts Cd Prtry BookgDt ValDt NtryRef AcctSvcrRef BkTxCd Domn Fmly SubFmlyCd AmtDtls InstdAmt TxAmt "
    "Chrgs TtlChrgsAndTaxAmt Rcrd ChrgInclInd NtryDtls Btch MsgId PmtInfId NbOfTxs TtlAmt TxDtls Refs EndToEndId "
    "UETR TxId InstrId MndtId RltdPties Dbtr Cdtr DbtrAcct CdtrAcct Pty Nm IBAN Othr RmtInf Ustrd Strd CdtrRefInf "
    "Ref AddtlRmtInf RtrInf Rsn AddtlTxInf AddtlNtryInf"
).split()


class DetailReader:
    """Field readers bound to one document's namespace."""

    def __init__(self, namespace: str) -> None:
        self.tag = {n: f"{{{namespace}}}{n}" for n in _NAMES}  # local name -> namespaced tag
        self.local: Callable[[str], str | None] = {t: n for n, t in self.tag.items()}.get
        self._dates: dict[str, date] = {}
        # A million entries repeat a handful of currencies and codes: keep one copy of each.
        self._strings: dict[str, str] = {}
        self._codes: dict[str, str] = {}

    def intern(self, text: str) -> str:
        return self._strings.setdefault(text, text)

    @staticmethod
    def account_id(local: Callable[[str], str | None], element: Any) -> str:
        """Acct/Id: the IBAN, else Othr/Id."""
        for child in element:
            name = local(child.tag)
            if name == "IBAN":
                return (child.text or "").strip()
            if name == "Othr":
                for part in child:
                    if local(part.tag) == "Id":
                        return (part.text or "").strip()
        return ""

    def date(self, element: Any) -> date | None:
        """``<X><Dt>..</Dt></X>`` or ``<X><DtTm>..</DtTm></X>``; a statement repeats few dates."""
        for child in element:
            text = (child.text or "")[:10]
            found = self._dates.get(text)
            if found is None:
                found = self._dates[text] = date.fromisoformat(text)
            return found
        return None

    def status(self, element: Any) -> str:
        text = (element.text or "").strip() or next(((c.text or "").strip() for c in element), "")
        return self.intern(text)

    def tx_code(self, element: Any) -> str | None:
        """``PMNT/RCDT/DMCT`` from Domn, else the proprietary code (e.g. ``NTRF+020``).

        Statements repeat a few codes a million times: the subtree's text is the cache key."""
        key = "|".join(element.itertext())
        found = self._codes.get(key)
        if found is None:
            found = self._codes[key] = self._tx_code(element)
        return found or None

    def _tx_code(self, element: Any) -> str:
        local = self.local
        proprietary = ""
        for child in element:
            name = local(child.tag)
            if name == "Domn":
                parts = [t.strip() for t in child.itertext() if t.strip()]
                if parts:
                    return "/".join(parts)
            elif name == "Prtry":
                proprietary = next((t.strip() for t in child.itertext() if t.strip()), "")
        return proprietary

    def instructed(self, element: Any) -> tuple[int, str] | None:
        """AmtDtls/InstdAmt/Amt: what was ordered, e.g. in the account's currency."""
        local = self.local
        for child in element:
            if local(child.tag) == "InstdAmt":
                for amount in child:
                    if local(amount.tag) == "Amt":
                        currency = amount.get("Ccy") or ""
                        return to_minor(amount.text or "", currency), currency
        return None

    def _tx_amount(self, element: Any) -> tuple[int, str] | None:
        local = self.local
        for child in element:
            if local(child.tag) == "TxAmt":
                for amount in child:
                    if local(amount.tag) == "Amt":
                        currency = amount.get("Ccy") or ""
                        return to_minor(amount.text or "", currency), currency
        return None

    def charges(self, element: Any, earlier: Charges | None) -> Charges:
        """v4+: one Chrgs with TtlChrgsAndTaxAmt and Rcrd*; v2: Chrgs repeated, each a record."""
        local = self.local
        total = currency = None
        records = list(earlier.records) if earlier else []
        for child in element:
            name = local(child.tag)
            if name == "TtlChrgsAndTaxAmt":
                currency = child.get("Ccy")
                total = to_minor(child.text or "", currency or "")
            elif name == "Rcrd":
                records.append(self._charge(child))
        if not any(local(c.tag) == "Rcrd" for c in element) and any(local(c.tag) == "Amt" for c in element):
            records.append(self._charge(element))
        if earlier is not None and total is None:
            total, currency = earlier.total_minor, earlier.currency
        return Charges(total, currency, tuple(records))

    def _charge(self, element: Any) -> Charge:
        local = self.local
        amount, currency, direction, included, code = 0, "", None, None, None
        for child in element:
            name = local(child.tag)
            if name == "Amt":
                currency = child.get("Ccy") or ""
                amount = to_minor(child.text or "", currency)
            elif name == "CdtDbtInd" and child.text in ("CRDT", "DBIT"):
                direction = Direction(child.text)
            elif name == "ChrgInclInd":
                included = (child.text or "").strip() in ("true", "1")
            elif name == "Tp":
                code = next((t.strip() for t in child.itertext() if t.strip()), None)
        return Charge(amount, currency, direction, included, code)

    def entry_details(self, element: Any, batches: list[Batch], details: list[TxDetail]) -> None:
        local = self.local
        for child in element:
            name = local(child.tag)
            if name == "TxDtls":
                details.append(self.transaction(child))
            elif name == "Btch":
                batches.append(self._batch(child))

    def _batch(self, element: Any) -> Batch:
        fields: dict[str | None, Any] = {}
        for child in element:
            name = self.local(child.tag)
            fields[name] = child.text
            if name == "TtlAmt":
                fields["Ccy"] = child.get("Ccy")
        currency, total, count = fields.get("Ccy"), fields.get("TtlAmt"), fields.get("NbOfTxs")
        direction = fields.get("CdtDbtInd")
        return Batch(
            reference_or_none(fields.get("MsgId")),
            reference_or_none(fields.get("PmtInfId")),
            int(count) if count and count.strip().isdigit() else None,
            to_minor(total, currency) if total and currency else None,
            currency,
            Direction(direction) if direction in ("CRDT", "DBIT") else None,
        )

    def transaction(self, element: Any) -> TxDetail:
        local = self.local
        refs: dict[str | None, str | None] = {}
        amount = currency = direction = code = charges = reason = info = parties = creditor_reference = None
        remittance = ""
        for child in element:
            name = local(child.tag)
            if name == "Refs":
                refs = {local(r.tag): r.text for r in child}
            elif name == "Amt":
                currency = self.intern(child.get("Ccy") or "")
                amount = to_minor(child.text or "", currency)
            elif name == "CdtDbtInd":
                direction = (
                    Direction.CREDIT if child.text == "CRDT" else Direction.DEBIT if child.text == "DBIT" else None
                )
            elif name == "RmtInf":
                remittance, creditor_reference = self._remittance(child)
            elif name == "RltdPties":
                parties = child  # read once the direction says which party is the other one
            elif name == "AmtDtls" and amount is None:
                found = self._tx_amount(child)
                amount, currency = found if found else (None, None)
            elif name == "BkTxCd":
                code = self.tx_code(child)
            elif name == "Chrgs":
                charges = self.charges(child, charges)
            elif name == "RtrInf":
                reason = next((t.strip() for t in child.itertext() if t.strip()), None)
            elif name == "AddtlTxInf":
                info = child.text
        get = refs.get
        return TxDetail(
            reference_or_none(get("EndToEndId")),
            reference_or_none(get("UETR")),
            reference_or_none(get("AcctSvcrRef")),
            reference_or_none(get("TxId")),
            reference_or_none(get("InstrId")),
            reference_or_none(get("PmtInfId")),
            reference_or_none(get("MsgId")),
            reference_or_none(get("MndtId")),
            amount,
            currency,
            direction,
            remittance,
            creditor_reference,
            self._party(parties, "Cdtr" if direction is Direction.DEBIT else "Dbtr") if parties is not None else None,
            code,
            charges,
            reason,
            info,
        )

    def _party(self, element: Any, role: str) -> Party | None:
        """Dbtr or Cdtr (name in ``Nm``, or v8 ``Pty/Nm``) and its account (DbtrAcct/CdtrAcct).

        ``itertext`` with tags reads the texts in C, without making an object per element."""
        local, tag = self.local, self.tag
        name = account = None
        for child in element:
            found = local(child.tag)
            if found == role:
                name = next((t.strip() for t in child.itertext(tag["Nm"], with_tail=False) if t.strip()), None)
            elif found is not None and found == role + "Acct":
                texts = child.itertext(tag["IBAN"], tag["Id"], with_tail=False)
                account = next((t.strip() for t in texts if t.strip()), None)
        return Party(name, account) if name or account else None

    def _remittance(self, element: Any) -> tuple[str, str | None]:
        local = self.local
        parts: list[str] = []
        creditor_reference = None
        for child in element:
            name = local(child.tag)
            if name == "Ustrd":
                parts.append((child.text or "").strip())
            elif name == "Strd":
                for node in child.iter():
                    node_name = local(node.tag) if isinstance(node.tag, str) else None
                    if node_name == "Ref" and node.text:
                        creditor_reference = creditor_reference or node.text.strip()
                        parts.append(node.text.strip())
                    elif node_name == "AddtlRmtInf" and node.text:
                        parts.append(node.text.strip())
        return " ".join(p for p in parts if p), creditor_reference
