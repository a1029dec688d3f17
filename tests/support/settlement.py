"""Fee collections and `citysettle settle` runs, through the use cases and the command's own code."""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from domain.model.payments import PaymentPurpose
from domain.services.fees import issue_fee_invoice, settle_invoice_on_payment
from domain.services.payments import BankNotice, credit_bank_transfer
from domain.services.projections import ProjectionRunner
from domain.services.unit_of_work import execute
from ops.cli.settle import settle
from ops.config import Config
from settlement.payouts.calendar import SettlementCalendar
from settlement.payouts.claims import Claim, read_claim
from settlement.payouts.payables import PayablePostings
from tests.support.catalogue import CATALOGUE, TREASURY

AGENCY_ACCOUNT = {"bank_bin": "970405", "account_no": "1500201095555", "name": "Sở Tư pháp Hà Nội"}
OPERATOR_ACCOUNT = {"bank_bin": "970415", "account_no": "113366668888", "name": "Công ty Khai thác điểm đỗ xe"}


async def collect(store: Any, no: str, channel: str, at: datetime) -> None:
    """Issue fee invoice ``no`` (LLTP-01, 200,000 VND) and pay its QR payment at ``at``."""
    issued = await execute(
        store,
        issue_fee_invoice(
            CATALOGUE, invoice_no=no, payer_id="p", service_code="LLTP-01", channel=channel, collection=TREASURY, at=at
        ),
    )
    if "payment" in issued.result:
        reference = issued.result["payment"]["reference"]
        amount = issued.result["payment"]["amount_vnd"]
        notice = BankNotice(TREASURY.bank_bin, TREASURY.account_no, f"FT-{no}", amount, reference, at)
        await execute(store, credit_bank_transfer(notice, at, {PaymentPurpose.FEE_INVOICE: settle_invoice_on_payment}))


def payee_directory(path: Path, payees: dict[str, dict[str, str]]) -> Path:
    paying = {"bank_bin": TREASURY.bank_bin, "account_no": TREASURY.account_no, "name": TREASURY.name}
    path.write_text(json.dumps({"paying_account": paying, "payees": payees}), encoding="utf-8")
    return path


async def settle_day(store_url: str, directory: Path, day: date, cutoff: time = time(23, 0)) -> dict[str, Any]:
    """What ``citysettle settle --date DAY --cutoff HH:MM`` does, in this process."""
    out = directory.with_name(f"payout-{day.isoformat()}-{cutoff:%H%M}.xml")
    args = argparse.Namespace(date=day, payees=directory, by="ketoan.nguyen", out=out)
    return await settle(Config(store_url=store_url), args, SettlementCalendar(cutoff=cutoff))


async def claim_for(store: Any, payee_account: str, day: date, calendar: SettlementCalendar | None = None) -> Claim:
    """What a batch for ``payee_account``'s ``day`` would claim, read as `settle` reads it."""
    await ProjectionRunner(store, store, PayablePostings()).catch_up()
    return await read_claim(store, payee_account, day, calendar or SettlementCalendar())
