"""`citysettle demo`: the demo day seeded into a real store by the real command line.

A small day (``--size 60``) keeps each run to a few seconds; the flows are the same at
every size."""

from __future__ import annotations

import asyncio
import io
import json
import socket
import stat
from importlib import resources
from pathlib import Path
from typing import Any
from uuid import UUID

from lxml import etree

from domain.model.clients import Role
from domain.model.tickets.catalogue import ProductEntry, product_entry_id
from domain.model.tickets.ticket import Ticket
from domain.services.product_index import product_codes_page
from domain.services.unit_of_work import UnitOfWork
from ops.cli.audit import replay_projections, verify
from ops.config import Config
from ops.demo.catalogue import BUS_OPERATOR, PARKING_OPERATOR, PAYEE, TICKET_PRODUCTS, WARD
from ops.demo.day import DEMO_DAY
from ops.demo.people import CLIENTS
from ops.projections import projections
from ops.stores import open_store
from settlement.statements import read_statement_file
from tests.support.cli import citysettle

SIZE = "60"
PAIN_001 = etree.XMLSchema(etree.parse(str(resources.files("sepaxml") / "schemas" / "pain.001.001.09.xsd")))
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}


def _demo(store_url: str, out: Path, *extra: str) -> Any:
    return citysettle("demo", "--store", store_url, "--no-serve", "--size", SIZE, "--out", str(out), *extra)


def _summary(out: Path) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return summary


async def _log_and_projections(store_url: str) -> tuple[list[tuple[str, int, str, bytes]], dict[str, Any]]:
    store = await open_store(Config(store_url=store_url), create=False)
    try:
        events: list[tuple[str, int, str, bytes]] = []
        position = 0
        while batch := await store.read_log(position, 5_000):
            events.extend((str(r.stream_id), r.version, r.topic, r.state) for r in batch)
            position = batch[-1].position
        rows = {p.name: await store.all_rows(p.name) for p in projections()}
        return sorted(events), _order_free(rows)
    finally:
        await store.close()


def _order_free(rows: dict[str, Any]) -> dict[str, Any]:
    """The projections, with each account's ledger entries as a sorted list rather than by
    number: concurrent flows commit in the order they happen to finish, so an account's
    entries are numbered in that order (their content is the day's)."""
    entries = rows.pop("ledger_entries")
    by_account: dict[str, list[str]] = {}
    for key, row in entries.items():
        if key.startswith("entry:"):
            account = key[len("entry:") :].rsplit(":", 1)[0]
            by_account.setdefault(account, []).append(json.dumps({**row, "number": None}, sort_keys=True))
        else:
            by_account.setdefault(key, []).append(json.dumps(row))
    return {
        **rows,
        "ledger_entries": {account: sorted(found) for account, found in by_account.items()},
        "bank_movements": _bank_movements_order_free(rows["bank_movements"]),
    }


def _bank_movements_order_free(rows: dict[str, Any]) -> dict[str, Any]:
    """The bank movements without the log positions they name (the order in which
    concurrent flows committed): each day's items, from all its chunks, sorted."""
    out: dict[str, Any] = {}
    for key, row in rows.items():
        if key.startswith("items:"):
            day = key.rsplit(":", 1)[0]
            out.setdefault(day, []).extend(json.dumps(item[1:]) for item in row)
        elif key.startswith("account:"):
            out[key] = {**row, "last": None}
        else:
            out[key] = row
    return {key: sorted(value) if key.startswith("items:") else value for key, value in out.items()}


async def _ticket_products(store_url: str, ticket_id: str) -> tuple[dict[str, Any], str]:
    """The recorded products as the product list finds them (price, operator), and the
    product of one sold ticket."""
    store = await open_store(Config(store_url=store_url), create=False)
    try:
        codes, _ = await product_codes_page(store, 0, 200)
        uow = UnitOfWork(store)
        entries = {code: await uow.get(ProductEntry, product_entry_id(code)) for code in codes}
        ticket = await uow.get(Ticket, UUID(ticket_id))
        return {c: (e.product.price_vnd, e.operator_id) for c, e in entries.items()}, ticket.product.code
    finally:
        await store.close()


def test_demo_day_on_a_store(store_url: str, tmp_path: Path) -> None:
    out = tmp_path / "demo"
    seeded = _demo(store_url, out)
    assert seeded.returncode == 0, seeded.stderr
    assert f"Tuesday {DEMO_DAY.isoformat()} in Hà Nội" in seeded.stdout
    summary = _summary(out)
    made = summary["made"]
    assert made["invoices"] == int(SIZE)
    assert made["invoices.paid_by_budget"] > 0
    assert made["bank_credits.late"]
    assert made["bank_credits.unmatched"]
    assert made["bank_credits.partial"]
    assert made["bank_notices.redelivered"]
    assert made["payments.notice_lost"]
    cashless = made["parking.sessions"] - made.get("parking.sessions.cash", 0)
    assert 0.65 <= cashless / made["parking.sessions"] <= 0.95, made
    assert made["tickets"]
    assert made["validations"]
    # The bus products are registered as `PUT /v1/tickets/products` registers them, and sold
    # as `POST /v1/tickets` sells them: every ticket is of one of those products.
    products, sold_product = asyncio.run(_ticket_products(store_url, summary["examples"]["ticket"]))
    assert products == {p.code: (p.price_vnd, BUS_OPERATOR) for p in TICKET_PRODUCTS}
    sold = {key.split(".", 1)[1] for key in made if key.startswith("tickets.") and key != "tickets.unpaid"}
    assert sold_product in sold <= set(products)
    assert made["parking.reservations"]

    # The statement's run shows exactly what the demo planted, each kind at least once.
    run = summary["reconciliation"]
    assert run["exceptions"] == run["planted"], run
    assert set(run["planted"]) == {"amount_mismatch", "duplicate", "missing_in_bank", "missing_in_ledger"}
    assert run["open_exceptions"] == sum(run["planted"].values())
    # Balances disagree only at the close, and only of the accounts that the planted lines are on.
    ward, parking = PAYEE[WARD].collection.account_no, PAYEE[PARKING_OPERATOR].collection.account_no
    assert run["balances_disagree"] == [f"{ward} closing_vs_ledger", f"{parking} closing_vs_ledger"]
    statement = read_statement_file(io.BytesIO((out / summary["statement"]["file"]).read_bytes()))
    assert sum(len(s.statement.entries) for s in statement.statements) == summary["statement"]["lines"]

    # The settlement is closed, each batch with a pain.001 valid under the XSD, paying its net.
    batches = summary["settlement"]["batches"]
    assert {b["payee_account"] for b in batches} >= {"payable:agency:ubnd-hoan-kiem", "payable:operator:hapark"}
    for batch in batches:
        document = etree.parse(str(out / "settlement" / batch["file"]))
        PAIN_001.assertValid(document)
        assert document.findtext(".//p:CtrlSum", namespaces=NS) == str(batch["net_vnd"])
    assert summary["settlement"]["total_vnd"] == sum(b["net_vnd"] for b in batches) > 0

    # Every role has a client and a private key only its owner can read.
    assert {c.role for c in CLIENTS} == set(Role)
    for client in CLIENTS:
        key = out / "keys" / f"{client.client_id}.pem"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert summary["clients"][client.client_id]["role"] == client.role.value

    # The auditor's tools agree with the live store.
    said = io.StringIO()
    assert asyncio.run(verify(Config(store_url=store_url), said)) == 0, said.getvalue()
    assert asyncio.run(replay_projections(Config(store_url=store_url), said)) == 0, said.getvalue()

    # A store with events is refused in one line, unless --if-empty (which says so).
    again = _demo(store_url, tmp_path / "again")
    assert again.returncode == 1
    assert again.stderr.count("\n") == 1
    assert "already holds" in again.stderr
    assert "Traceback" not in again.stderr
    assert not (tmp_path / "again").exists()
    skipped = _demo(store_url, tmp_path / "again", "--if-empty")
    assert skipped.returncode == 0, skipped.stderr
    assert "demo not seeded" in skipped.stdout


def test_same_seed_gives_the_same_events(tmp_path: Path) -> None:
    runs = []
    for name, seed in (("one", "7"), ("two", "7"), ("other", "8")):
        url = f"sqlite:///{tmp_path}/{name}.db"
        done = _demo(url, tmp_path / name, "--seed", seed, "--size", "40")
        assert done.returncode == 0, done.stderr
        summary = _summary(tmp_path / name)
        for client in summary.pop("clients").values():
            assert Path(client["key_file"]).name.endswith(".pem")
        runs.append((summary, *asyncio.run(_log_and_projections(url))))
    (one, events_one, rows_one), (two, events_two, rows_two), (other, events_other, _) = runs
    assert one == two
    assert events_one == events_two
    assert rows_one == rows_two
    assert (tmp_path / "one" / "keys" / "demo-admin.pem").read_bytes() == (
        tmp_path / "two" / "keys" / "demo-admin.pem"
    ).read_bytes()
    assert events_other != events_one
    assert other["made"] != one["made"]


def test_demo_refuses_a_size_out_of_range(tmp_path: Path) -> None:
    refused = _demo(f"sqlite:///{tmp_path}/x.db", tmp_path / "out", "--size", "3")
    assert refused.returncode == 2
    assert refused.stderr.startswith("citysettle demo: --size must be")
    assert refused.stderr.count("\n") == 1


def test_demo_refuses_a_taken_port_before_it_seeds(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/x.db"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refused = citysettle("demo", "--store", url, "--port", str(port), "--out", str(tmp_path / "out"))
    assert refused.returncode == 2, refused.stderr
    assert f"port {port} on 127.0.0.1 is already in use" in refused.stderr
    assert refused.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()
    seeded = _demo(url, tmp_path / "out", "--size", "40")  # nothing was written: the demo can run
    assert seeded.returncode == 0, seeded.stderr
