"""Fees over real HTTP, on each store: the catalogue as events, invoices and their payment."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.http.signing import RequestSigner
from domain.model.clients import Role
from domain.model.fee_catalogue import CatalogueEntry, catalogue_entry_id
from domain.services.payment_purposes import ON_PAID
from domain.services.payments import BankNotice, credit_bank_transfer
from domain.services.unit_of_work import execute
from tests.support.api import Api, ClientFactory, start_api

BANK = {"bank_bin": "970436", "account_no": "0011004455667", "account_name": "SO TU PHAP HA NOI"}
SERVICE: dict[str, Any] = {
    "name": "Cap phieu ly lich tu phap",
    "payee_id": "stp-hn",
    "amount_vnd": 200_000,
    "legal_basis": "Thong tu 244/2016/TT-BTC",
    "subsidies": [{"channel": "vneid", "percent": 100, "budget_payee_id": "ns-hn", "legal_basis": "NQ 56/2024"}],
}
INVOICE = {
    "service_code": "LLTP-01",
    "payer": {"name": "Nguyen Van A", "id_number": "001090000001"},
    "channel": "counter",
}


async def seed(api: Api) -> RequestSigner:
    admin = await api.client(Role.ADMIN)
    payees = [("stp-hn", {"name": "So Tu phap", "kind": "agency", "collection_account": BANK})]
    payees.append(("ns-hn", {"name": "Ngan sach Ha Noi", "kind": "budget"}))
    for payee_id, body in payees:
        assert (await api.call(admin, "PUT", f"/v1/payees/{payee_id}", body)).status == 201
    response = await api.call(admin, "PUT", "/v1/fees/services/LLTP-01", SERVICE)
    assert response.status == 201, await response.text()
    return admin


@pytest.fixture
async def api(aiohttp_client: ClientFactory, store_url: str) -> Api:
    return await start_api(aiohttp_client, store_url)


async def test_the_catalogue_is_recorded_and_revised_as_events(api: Api) -> None:
    admin = await seed(api)
    revised = await api.call(admin, "PUT", "/v1/fees/services/LLTP-01", {**SERVICE, "amount_vnd": 250_000})
    assert revised.status == 200
    assert (await revised.json())["amount_vnd"] == 250_000
    again = await api.call(admin, "PUT", "/v1/fees/services/LLTP-01", {**SERVICE, "amount_vnd": 250_000})
    assert (await again.json()) == (await revised.json())
    events = await api.store.load(catalogue_entry_id("LLTP-01"))
    assert [type(e) for e in events] == [CatalogueEntry.Published, CatalogueEntry.Revised]


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"amount_vnd": 200_000.0}, 422, "$.amount_vnd"),
        ({"amount_vnd": -1}, 422, "$.amount_vnd"),
        ({"amount_vnd": "200000"}, 422, "$.amount_vnd"),
        ({"subsidies": [{**SERVICE["subsidies"][0], "percent": 101}]}, 422, "$.subsidies[0].percent"),
        ({"payee_id": "nobody"}, 422, None),
        ({"subsidies": [{**SERVICE["subsidies"][0], "budget_payee_id": "stp-hn"}]}, 422, None),
    ],
)
async def test_bad_services_are_refused(api: Api, change: dict[str, Any], status: int, field: str | None) -> None:
    admin = await seed(api)
    response = await api.call(admin, "PUT", "/v1/fees/services/LLTP-02", {**SERVICE, **change})
    assert response.status == status
    assert (await response.json()).get("field") == field


async def test_an_invoice_is_issued_with_its_payment_and_paid_by_the_bank(api: Api) -> None:
    await seed(api)
    terminal = await api.client(Role.TERMINAL)
    response = await api.call(terminal, "POST", "/v1/fees/invoices", INVOICE)
    assert response.status == 201, await response.text()
    invoice = await response.json()
    assert (invoice["status"], invoice["amount_vnd"], invoice["subsidy_vnd"], invoice["payer_due_vnd"]) == (
        "issued", 200_000, 0, 200_000,
    )  # fmt: skip
    payment = invoice["payment"]
    assert payment["status"] == "pending"
    assert payment["reference"] in payment["qr_payload"]
    notice = BankNotice(
        "970436", "0011004455667", "FT1", 200_000, f"MBVCB.1.{payment['reference']}.le phi", datetime.now(UTC)
    )
    await execute(api.store, credit_bank_transfer(notice, datetime.now(UTC), ON_PAID))
    read = await api.call(terminal, "GET", f"/v1/fees/invoices/{invoice['invoice_no']}")
    assert (await read.json())["status"] == "paid"
    refund = await api.call(
        terminal,
        "POST",
        f"/v1/fees/invoices/{invoice['invoice_no']}/refund",
        {"amount_vnd": 50_000, "reason": "overcharged"},
    )
    assert refund.status == 200, await refund.text()
    assert (await refund.json())["refunded_vnd"] == 50_000


async def test_a_fully_subsidised_invoice_is_paid_at_issue(api: Api) -> None:
    await seed(api)
    terminal = await api.client(Role.TERMINAL)
    response = await api.call(terminal, "POST", "/v1/fees/invoices", {**INVOICE, "channel": "vneid"})
    invoice = await response.json()
    assert (invoice["status"], invoice["subsidy_vnd"], invoice["payer_due_vnd"], invoice["payment"]) == (
        "paid",
        200_000,
        0,
        None,
    )


async def test_an_unpaid_invoice_can_be_cancelled(api: Api) -> None:
    await seed(api)
    terminal = await api.client(Role.TERMINAL)
    invoice = await (await api.call(terminal, "POST", "/v1/fees/invoices", INVOICE)).json()
    path = f"/v1/fees/invoices/{invoice['invoice_no']}/cancel"
    cancelled = await api.call(terminal, "POST", path, {"reason": "wrong service"})
    assert (await cancelled.json())["status"] == "cancelled"
    again = await api.call(terminal, "POST", path, {"reason": "wrong service"})
    assert again.status == 409


async def test_a_retried_issue_is_one_invoice(api: Api) -> None:
    await seed(api)
    terminal = await api.client(Role.TERMINAL)
    first = await api.call(terminal, "POST", "/v1/fees/invoices", INVOICE, idempotency_key="issue-1")
    retry = await api.call(terminal, "POST", "/v1/fees/invoices", INVOICE, idempotency_key="issue-1")
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert (await retry.json()) == (await first.json())
    other = await api.call(terminal, "POST", "/v1/fees/invoices", INVOICE, idempotency_key="issue-2")
    assert (await other.json())["invoice_no"] != (await first.json())["invoice_no"]


async def test_a_scoped_terminal_works_only_for_its_agencies(api: Api) -> None:
    await seed(api)
    elsewhere = await api.client(Role.TERMINAL, scope=("so-gtvt",))
    response = await api.call(elsewhere, "POST", "/v1/fees/invoices", INVOICE)
    assert response.status == 403
    assert (await response.json())["type"].endswith("/problems/out-of-scope")
    here = await api.client(Role.TERMINAL, scope=("stp-hn",))
    invoice = await (await api.call(here, "POST", "/v1/fees/invoices", INVOICE)).json()
    assert (await api.call(elsewhere, "GET", f"/v1/fees/invoices/{invoice['invoice_no']}")).status == 403
    assert (await api.call(here, "GET", f"/v1/fees/invoices/{invoice['invoice_no']}")).status == 200


async def test_unknown_service_and_invoice_are_404(api: Api) -> None:
    await seed(api)
    terminal = await api.client(Role.TERMINAL)
    assert (await api.call(terminal, "POST", "/v1/fees/invoices", {**INVOICE, "service_code": "NONE"})).status == 404
    assert (await api.call(terminal, "GET", "/v1/fees/invoices/FI0000")).status == 404


async def test_an_agency_without_collection_account_cannot_invoice(api: Api) -> None:
    admin = await seed(api)
    await api.call(admin, "PUT", "/v1/payees/stp-hn", {"name": "So Tu phap", "kind": "agency"})
    terminal = await api.client(Role.TERMINAL)
    response = await api.call(terminal, "POST", "/v1/fees/invoices", INVOICE)
    assert response.status == 409
    assert (await response.json())["type"].endswith("/problems/no-collection-account")
