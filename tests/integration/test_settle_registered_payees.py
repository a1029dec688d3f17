"""`citysettle settle` without --payees pays the payout accounts registered through the
API, from --paying-account (issue 9, item 2's last sentence)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from lxml import etree

from domain.model.payees import BankAccount, PayeeKind
from domain.services.payees import put_payee
from domain.services.unit_of_work import execute
from ops.config import Config
from ops.stores import open_store
from tests.integration.test_settle_cli import NS, SCHEMA
from tests.integration.test_settlement_batches import DAY, MORNING, _settle_cli
from tests.support.catalogue import TREASURY
from tests.support.settlement import collect

PAYING = f"{TREASURY.bank_bin}:{TREASURY.account_no}:{TREASURY.name}"


async def _seeded(url: str, payout: BankAccount | None) -> None:
    store = await open_store(Config(store_url=url))
    try:
        await collect(store, "HS-P1", "counter", MORNING)
        use_case = put_payee(
            payee_id="so-tu-phap",
            name="Sở Tư pháp Hà Nội",
            kind=PayeeKind.AGENCY,
            collection_account=None,
            payout_account=payout,
            at=datetime.fromisoformat("2026-11-20T00:00:00+00:00"),
        )
        await execute(store, use_case)
    finally:
        await store.close()


def _settle(url: str, out: Path, *more: str) -> object:
    return _settle_cli("--date", DAY.isoformat(), "--by", "ketoan.nguyen", "--store", url, "--out", str(out), *more)


async def test_the_registered_payout_account_is_paid(store_url: str, tmp_path: Path) -> None:
    await _seeded(store_url, BankAccount("970405", "1500201095555", "So Tu phap Ha Noi"))
    out = tmp_path / "payout.xml"
    done = _settle_cli(
        "--date", DAY.isoformat(), "--by", "ketoan.nguyen", "--store", store_url, "--out", str(out),
        "--paying-account", PAYING,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    document = etree.parse(str(out))
    SCHEMA.assertValid(document)
    assert document.findtext(".//p:CdtrAcct/p:Id/p:Othr/p:Id", namespaces=NS) == "1500201095555"
    assert document.findtext(".//p:DbtrAcct/p:Id/p:Othr/p:Id", namespaces=NS) == TREASURY.account_no


async def test_without_a_payout_account_or_a_paying_account_nothing_is_closed(store_url: str, tmp_path: Path) -> None:
    await _seeded(store_url, None)
    out = tmp_path / "payout.xml"
    missing = _settle_cli("--date", DAY.isoformat(), "--by", "k", "--store", store_url, "--out", str(out))
    assert missing.returncode == 2
    assert "--paying-account BIN:NUMBER:NAME" in missing.stderr
    no_payout = _settle_cli(
        "--date", DAY.isoformat(), "--by", "k", "--store", store_url, "--out", str(out), "--paying-account", PAYING
    )
    assert no_payout.returncode == 2
    assert "so-tu-phap has no payout_account" in no_payout.stderr
    assert "Traceback" not in no_payout.stderr
    assert not out.exists()
    bad = _settle_cli("--date", DAY.isoformat(), "--by", "k", "--store", store_url, "--paying-account", "1:2:x")
    assert bad.returncode == 2
    assert "e.g. 970436:0011004455667" in bad.stderr
