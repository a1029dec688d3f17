"""Generated bank statements with a known answer, for tests and the benchmark.

`scenario` yields, case by case, the statement lines a bank would send and the ledger
items our books hold, together with the category every line and item must end in. Each
exception category gets its own last three digits of the amount (``amount % 1000``) so
that no stage can pair lines and items of different cases by amount alone.
`write_camt053` writes the lines as an ISO 20022 camt.053 document of a chosen version.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TextIO
from uuid import UUID

from domain.model.references import make_reference
from settlement.reconciliation.ledger_items import LedgerItem
from settlement.statements.model import Direction

ACCOUNT_NO = "0011004455667"
LEDGER_ACCOUNT = f"bank:970436:{ACCOUNT_NO}"
DAY = date(2026, 11, 23)


@dataclass(frozen=True, slots=True)
class GenTx:
    amount_vnd: int
    end_to_end_id: str | None = None


@dataclass(frozen=True, slots=True)
class GenLine:
    amount_vnd: int
    direction: str = "CRDT"
    acct_svcr_ref: str | None = None
    end_to_end_id: str | None = None
    remittance: str = ""
    reversal: bool = False
    batch_count: int | None = None
    txs: tuple[GenTx, ...] = ()  # the TxDtls of a batch line


@dataclass
class Case:
    kind: str
    lines: list[GenLine] = field(default_factory=list)
    items: list[LedgerItem] = field(default_factory=list)
    line_categories: list[str] = field(default_factory=list)
    item_categories: list[str] = field(default_factory=list)


# kind -> share of cases (per 10,000); the rest are matched by bank transaction id.
MIX = {
    "missing_in_bank": 100,
    "missing_in_ledger": 100,
    "amount_mismatch": 100,
    "duplicate": 100,
    "reversed": 50,
    "reference": 300,
    "truncated_reference": 100,
    "amount_date": 200,
    "batch_txdtls": 30,
    "ledger_batch": 20,
    "split": 30,
    "subset_sum": 1,
}


def _item(n: int, amount: int, *, direction: str = "CRDT", **keys: str | None) -> LedgerItem:
    booking = keys.pop("booking", None)
    return LedgerItem(
        item_id=f"L{n:08d}",
        account=LEDGER_ACCOUNT,
        direction=Direction(direction),
        amount_minor=amount,
        currency="VND",
        booking_date=date.fromisoformat(booking) if booking else DAY,
        **keys,
    )


def _case(kind: str, n: int, rnd: random.Random) -> Case:
    amount = 1000 * rnd.randrange(10, 5000)
    ref = f"FT26327{n:09d}"
    case = Case(kind)
    if kind == "matched":
        case.lines.append(
            GenLine(amount, acct_svcr_ref=ref, end_to_end_id=f"E2E-{n:08d}", remittance=f"thanh toan {n}")
        )
        case.items.append(_item(n, amount, bank_tx_id=ref))
        case.line_categories, case.item_categories = ["matched"], ["matched"]
    elif kind == "missing_in_bank":
        case.items.append(_item(n, amount + 1, bank_tx_id=ref))
        case.item_categories = ["missing_in_bank"]
    elif kind == "missing_in_ledger":
        case.lines.append(GenLine(amount + 2, acct_svcr_ref=ref, remittance="chuyen tien"))
        case.line_categories = ["missing_in_ledger"]
    elif kind == "amount_mismatch":
        case.lines.append(GenLine(amount + 504, acct_svcr_ref=ref))
        case.items.append(_item(n, amount + 4, bank_tx_id=ref))
        case.line_categories, case.item_categories = ["amount_mismatch"], ["amount_mismatch"]
    elif kind == "duplicate":
        line = GenLine(amount + 6, acct_svcr_ref=ref, remittance="le phi")
        case.lines += [line, line]
        case.items.append(_item(n, amount + 6, bank_tx_id=ref))
        case.line_categories, case.item_categories = ["matched", "duplicate"], ["matched"]
    elif kind == "reversed":
        e2e = f"E2E-R-{n:08d}"
        case.lines.append(GenLine(amount + 7, acct_svcr_ref=ref, end_to_end_id=e2e))
        case.lines.append(GenLine(amount + 7, "DBIT", f"RV{ref}", e2e, "tra lai", reversal=True))
        case.items.append(_item(n, amount + 7, bank_tx_id=ref, end_to_end_id=e2e))
        case.line_categories, case.item_categories = ["reversed", "reversed"], ["reversed"]
    elif kind in ("reference", "truncated_reference"):
        reference = make_reference(UUID(int=rnd.getrandbits(128)))
        text = f"MBVCB.{n}.{reference}.le phi" if kind == "reference" else f"IBFT {n} {reference[:9]}"
        case.lines.append(GenLine(amount + 8, acct_svcr_ref=f"X{ref}", remittance=text))
        case.items.append(_item(n, amount + 8, payment_reference=reference))
        case.line_categories, case.item_categories = ["matched"], ["matched"]
    else:
        _grouped_case(case, n, amount, rnd)
    return case


def _grouped_case(case: Case, n: int, amount: int, rnd: random.Random) -> None:
    kind = case.kind
    if kind == "amount_date":
        case.lines.append(GenLine(amount + 5, acct_svcr_ref=f"Y{n}"))
        case.items.append(_item(n, amount + 5, booking=(DAY - timedelta(days=rnd.randrange(2))).isoformat()))
        case.line_categories, case.item_categories = ["matched"], ["matched"]
    elif kind == "batch_txdtls":
        parts = [amount + 3000 * i for i in range(1, 4)]
        txs = tuple(GenTx(p, f"E2E-B-{n:08d}-{i}") for i, p in enumerate(parts))
        case.lines.append(GenLine(sum(parts), acct_svcr_ref=f"BT{n}", batch_count=3, txs=txs))
        case.items += [_item(n * 10 + i, p, end_to_end_id=f"E2E-B-{n:08d}-{i}") for i, p in enumerate(parts)]
        case.line_categories, case.item_categories = ["matched"], ["matched"] * 3
    elif kind == "ledger_batch":
        parts = [amount + 7011 * i for i in range(1, 5)]  # x011..x044, total x110: amounts no other case has
        case.lines.append(GenLine(sum(parts), acct_svcr_ref=f"ACQ{n}", remittance="TT THE NGAY"))
        case.items += [_item(n * 10 + i, p, batch_id=f"ACQ-BATCH-{n}") for i, p in enumerate(parts)]
        case.line_categories, case.item_categories = ["matched"], ["matched"] * 4
    elif kind == "split":
        e2e = f"E2E-S-{n:08d}"
        case.lines += [
            GenLine(amount + 9, acct_svcr_ref=f"S1-{n}", end_to_end_id=e2e),
            GenLine(amount + 19, acct_svcr_ref=f"S2-{n}", end_to_end_id=e2e),
        ]
        case.items.append(_item(n, 2 * amount + 28, end_to_end_id=e2e))
        case.line_categories, case.item_categories = ["matched", "matched"], ["matched"]
    elif kind == "subset_sum":
        parts = [amount + 3, 2 * amount + 3]
        case.lines.append(GenLine(sum(parts), acct_svcr_ref=f"SS{n}", batch_count=2))
        case.items += [_item(n * 10 + i, p) for i, p in enumerate(parts)]
        case.line_categories, case.item_categories = ["matched"], ["matched"] * 2
    else:
        raise ValueError(f"unknown case kind {kind!r}")


def scenario(cases: int, seed: int = 5, mix: dict[str, int] | None = None) -> Iterator[Case]:
    """``cases`` cases; a case is usually one line and one item."""
    rnd = random.Random(seed)
    table = [kind for kind, share in (mix or MIX).items() for _ in range(share)]
    for n in range(cases):
        draw = rnd.randrange(10_000)
        yield _case(table[draw] if draw < len(table) else "matched", n, rnd)


def expected(cases: Sequence[Case]) -> tuple[Counter[str], Counter[str]]:
    return (
        Counter(c for case in cases for c in case.line_categories),
        Counter(c for case in cases for c in case.item_categories),
    )


_NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}"


def write_camt053(
    out: TextIO, lines: Sequence[GenLine], *, version: str = "08", opening_vnd: int = 0, statement_id: str = "S1"
) -> int:
    """Write the statement; returns its closing balance (opening + the lines)."""
    closing = opening_vnd + sum(line.amount_vnd * (1 if line.direction == "CRDT" else -1) for line in lines)
    out.write(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{_NS.format(version=version)}">\n'
        f"<BkToCstmrStmt><GrpHdr><MsgId>M-{statement_id}</MsgId><CreDtTm>2026-11-24T06:00:00+07:00</CreDtTm>"
        f"</GrpHdr>\n<Stmt><Id>{statement_id}</Id><CreDtTm>2026-11-24T06:00:00+07:00</CreDtTm>\n"
        f"<Acct><Id><Othr><Id>{ACCOUNT_NO}</Id></Othr></Id><Ccy>VND</Ccy></Acct>\n"
        f"{_balance('OPBD', opening_vnd, DAY - timedelta(days=1))}{_balance('CLBD', closing, DAY)}"
    )
    chunk: list[str] = []
    for line in lines:
        chunk.append(_entry(line, version))
        if len(chunk) >= 10_000:
            out.write("".join(chunk))
            chunk.clear()
    out.write("".join(chunk))
    out.write("</Stmt>\n</BkToCstmrStmt>\n</Document>\n")
    return closing


def _balance(code: str, amount: int, when: date) -> str:
    side = "CRDT" if amount >= 0 else "DBIT"
    return (
        f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="VND">{abs(amount)}</Amt>'
        f"<CdtDbtInd>{side}</CdtDbtInd><Dt><Dt>{when.isoformat()}</Dt></Dt></Bal>\n"
    )


def _entry(line: GenLine, version: str) -> str:
    status = "<Sts><Cd>BOOK</Cd></Sts>" if version >= "08" else "<Sts>BOOK</Sts>"
    reversal = "<RvslInd>true</RvslInd>" if line.reversal else ""
    svcr = f"<AcctSvcrRef>{line.acct_svcr_ref}</AcctSvcrRef>" if line.acct_svcr_ref else ""
    batch = f"<Btch><NbOfTxs>{line.batch_count}</NbOfTxs></Btch>" if line.batch_count else ""
    txs = line.txs or ((GenTx(line.amount_vnd, line.end_to_end_id),) if not line.batch_count else ())
    details = "".join(_tx(tx, line, version) for tx in txs)
    return (
        f'    <Ntry>\n      <Amt Ccy="VND">{line.amount_vnd}</Amt>\n      <CdtDbtInd>{line.direction}</CdtDbtInd>'
        f"{reversal}\n      {status}\n      <BookgDt><Dt>{DAY.isoformat()}</Dt></BookgDt>\n"
        f"      <ValDt><Dt>{DAY.isoformat()}</Dt></ValDt>\n      {svcr}\n"
        "      <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn></BkTxCd>\n"
        f"      <NtryDtls>{batch}{details}\n      </NtryDtls>\n    </Ntry>\n"
    )


def _tx(tx: GenTx, line: GenLine, version: str) -> str:
    e2e = f"<EndToEndId>{tx.end_to_end_id}</EndToEndId>" if tx.end_to_end_id else "<EndToEndId>NOTPROVIDED</EndToEndId>"
    amount = (
        f'<Amt Ccy="VND">{tx.amount_vnd}</Amt><CdtDbtInd>{line.direction}</CdtDbtInd>'
        if version >= "03"
        else f'<AmtDtls><TxAmt><Amt Ccy="VND">{tx.amount_vnd}</Amt></TxAmt></AmtDtls>'
    )
    remittance = f"<RmtInf><Ustrd>{line.remittance}</Ustrd></RmtInf>" if line.remittance else ""
    name = "<Pty><Nm>NGUYEN VAN A</Nm></Pty>" if version >= "08" else "<Nm>NGUYEN VAN A</Nm>"
    return (
        f"\n        <TxDtls>\n          <Refs>{e2e}</Refs>\n          {amount}\n"
        f"          <RltdPties><Dbtr>{name}</Dbtr></RltdPties>\n"
        f"          {remittance}\n        </TxDtls>"
    )
