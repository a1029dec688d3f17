"""`citysettle settle` as finance runs it: a payee directory with mistakes closes nothing,
and a closed batch's payout file can be issued again (issue 9, items 2 and 10)."""

from __future__ import annotations

import json
import uuid
from importlib import resources
from pathlib import Path
from typing import Any
from uuid import UUID

from lxml import etree

from domain.services.unit_of_work import UnitOfWork
from ops.config import Config
from ops.stores import open_store
from settlement.payouts.batches import SettlementBatch
from tests.integration.test_settlement_batches import AGENCY, DAY, MORNING, _settle_cli
from tests.support.catalogue import TREASURY
from tests.support.settlement import collect

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}
SCHEMA = etree.XMLSchema(etree.parse(str(resources.files("sepaxml") / "schemas" / "pain.001.001.09.xsd")))
PAYING = {"bank_bin": TREASURY.bank_bin, "account_no": TREASURY.account_no, "name": TREASURY.name}
GOOD = {"bank_bin": "970405", "account_no": "1500201095555", "name": "Sở Tư pháp Hà Nội"}


def _directory(path: Path, payee: dict[str, Any], **more: dict[str, Any]) -> Path:
    path.write_text(json.dumps({"paying_account": PAYING, "payees": {AGENCY: payee, **more}}), encoding="utf-8")
    return path


async def _seeded(url: str) -> None:
    store = await open_store(Config(store_url=url))
    try:
        await collect(store, "HS-P1", "counter", MORNING)
    finally:
        await store.close()


def _close(url: str, directory: Path, out: Path) -> Any:
    args = ("--date", DAY.isoformat(), "--payees", str(directory), "--by", "ketoan.nguyen", "--store", url)
    return _settle_cli(*args, "--out", str(out))


async def test_a_directory_with_bad_accounts_closes_nothing_and_says_every_problem(
    store_url: str, tmp_path: Path
) -> None:
    await _seeded(store_url)
    bad = {"bank_bin": "97040", "account_no": "", "name": ""}
    other = {"bank_bin": "123456", "account_no": "1500201095555", "name": "Sở <Tư> pháp"}
    directory = _directory(tmp_path / "payees.json", bad, **{"payable:agency:other": other})
    refused = _close(store_url, directory, tmp_path / "p.xml")
    assert refused.returncode == 2
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    for problem in (
        f"payees[{AGENCY}]: bank_bin '97040' is not a 6-digit BIN",
        "account_no '' is not 1-19 letters or digits",
        "name is empty",
        "payees[payable:agency:other]: bank_bin 123456 is not a NAPAS member bank",
        "cannot carry ('<' '>')",
    ):
        assert problem in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / "p.xml").exists()
    assert not (tmp_path / "p.xml.partial").exists()

    done = _close(store_url, _directory(directory, GOOD), tmp_path / "p.xml")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["total_vnd"] == 200_000, "the corrected file pays what the refused one did not"
    document = etree.parse(str(tmp_path / "p.xml"))
    SCHEMA.assertValid(document)
    assert document.findtext(".//p:CdtrAcct/p:Id/p:Othr/p:Id", namespaces=NS) == GOOD["account_no"]


async def test_a_closed_batch_is_reissued_with_its_end_to_end_id_and_a_new_message_id(
    store_url: str, tmp_path: Path
) -> None:
    await _seeded(store_url)
    typo = {**GOOD, "account_no": "1500201095556"}  # valid, but not the agency's account
    first = _close(store_url, _directory(tmp_path / "payees.json", typo), tmp_path / "p.xml")
    assert first.returncode == 0, first.stderr
    batch_id = json.loads(first.stdout)["batches"][0]["id"]
    original = etree.parse(str(tmp_path / "p.xml"))

    corrected = _directory(tmp_path / "payees.json", GOOD)
    common = ("--payees", str(corrected), "--by", "ketoan.tran", "--store", store_url)
    again = _settle_cli("--reissue", batch_id, *common, "--out", str(tmp_path / "r1.xml"))
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    reissued = etree.parse(str(tmp_path / "r1.xml"))
    SCHEMA.assertValid(reissued)
    e2e = ".//p:CdtTrfTxInf/p:PmtId/p:EndToEndId"
    assert reissued.findtext(e2e, namespaces=NS) == original.findtext(e2e, namespaces=NS)
    message = reissued.findtext(".//p:GrpHdr/p:MsgId", namespaces=NS)
    assert message == summary["reissued"] != original.findtext(".//p:GrpHdr/p:MsgId", namespaces=NS)
    assert reissued.findtext(".//p:CdtrAcct/p:Id/p:Othr/p:Id", namespaces=NS) == GOOD["account_no"]
    assert summary["total_vnd"] == 200_000

    twice = _settle_cli("--reissue", batch_id, *common, "--out", str(tmp_path / "r2.xml"))
    assert twice.returncode == 0, twice.stderr
    assert json.loads(twice.stdout)["reissued"] not in (message, None)

    store = await open_store(Config(store_url=store_url))
    try:
        batch = await UnitOfWork(store).get(SettlementBatch, UUID(batch_id))
        events = [e for e in await store.load(UUID(batch_id)) if isinstance(e, SettlementBatch.PayoutReissued)]
    finally:
        await store.close()
    assert batch.reissues == [message, json.loads(twice.stdout)["reissued"]]
    assert [(e.reissued_by, e.payee["account_no"]) for e in events] == [("ketoan.tran", GOOD["account_no"])] * 2


async def test_reissue_refusals_are_one_line_exit_2(store_url: str, tmp_path: Path) -> None:
    await _seeded(store_url)
    directory = _directory(tmp_path / "payees.json", GOOD)
    unknown = "00000000-0000-0000-0000-000000000000"
    common = ("--payees", str(directory), "--by", "ketoan.tran", "--store", store_url, "--out", str(tmp_path / "r.xml"))
    missing = _settle_cli("--reissue", unknown, *common)
    assert missing.returncode == 2
    assert f"there is no settlement batch {unknown}" in missing.stderr
    other_paying = {**PAYING, "account_no": "0011009999999"}
    done = _close(store_url, directory, tmp_path / "p.xml")
    batch_id = json.loads(done.stdout)["batches"][0]["id"]
    moved = tmp_path / "moved.json"
    moved.write_text(json.dumps({"paying_account": other_paying, "payees": {AGENCY: GOOD}}), encoding="utf-8")
    elsewhere = _settle_cli("--reissue", batch_id, *common[:1], str(moved), *common[2:])
    assert elsewhere.returncode == 2
    assert "re-issue it from the same account" in elsewhere.stderr
    both = _settle_cli("--reissue", batch_id, "--date", DAY.isoformat(), *common)
    assert both.returncode == 2
    assert "not allowed with" in both.stderr  # argparse's usage error
    for refused in (missing, elsewhere):
        assert len(refused.stderr.strip().splitlines()) == 1
        assert "Traceback" not in refused.stderr
    assert not (tmp_path / "r.xml").exists()


def test_settle_opens_existing_stores_only(tmp_path: Path) -> None:
    directory = _directory(tmp_path / "payees.json", GOOD)
    typo = f"sqlite:///{tmp_path}/evnets.db"
    refused = _close(typo, directory, tmp_path / "p.xml")
    assert refused.returncode == 2
    assert "no event store at" in refused.stderr
    assert not (tmp_path / "evnets.db").exists()


def test_settle_refuses_a_postgres_store_that_was_never_created(pg_database_url: str, tmp_path: Path) -> None:
    url = f"{pg_database_url}?schema=t_typo_{uuid.uuid4().hex[:8]}"
    refused = _close(url, _directory(tmp_path / "payees.json", GOOD), tmp_path / "p.xml")
    assert refused.returncode == 2
    assert "no event store" in refused.stderr
    assert "Traceback" not in refused.stderr
