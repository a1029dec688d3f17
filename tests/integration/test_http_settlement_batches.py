"""Closing a day over real HTTP, on each store: batches paid to the registered payout
accounts, their pain.001 files as issued, and re-issue."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from lxml import etree

from adapters.http.signing import RequestSigner
from domain.model.clients import Role
from settlement.payouts.calendar import SettlementCalendar
from settlement.payouts.pain001 import PAIN_001_NS
from tests.integration.test_http_openapi import check_against_spec
from tests.integration.test_settle_cli import SCHEMA
from tests.support.api import Api, ClientFactory, start_api
from tests.support.catalogue import TREASURY
from tests.support.settlement import AGENCY_ACCOUNT, collect

AGENCY = "payable:agency:so-tu-phap"
PAYING = {"bank_bin": TREASURY.bank_bin, "account_no": TREASURY.account_no, "name": "KHO BAC NHA NUOC HA NOI"}
NS = {"p": PAIN_001_NS}


@pytest.fixture
async def api(aiohttp_client: ClientFactory, store_url: str) -> Api:
    return await start_api(aiohttp_client, store_url)


def payout(account: dict[str, str]) -> dict[str, Any]:
    return {"bank_bin": account["bank_bin"], "account_no": account["account_no"], "account_name": account["name"]}


async def collected_day(api: Api, *, payout_account: dict[str, str] | None = AGENCY_ACCOUNT) -> date:
    """A fee collected for so-tu-phap two days ago; the payee registered; its business day
    (after the 23:00 Hanoi cut-off a collection belongs to the next day)."""
    admin = await api.client(Role.ADMIN)
    body: dict[str, Any] = {"name": "So Tu phap Ha Noi", "kind": "agency"}
    if payout_account is not None:
        body["payout_account"] = payout(payout_account)
    assert (await api.call(admin, "PUT", "/v1/payees/so-tu-phap", body)).status == 201
    at = datetime.now(UTC) - timedelta(days=2)
    await collect(api.store, "HS-P1", "counter", at)
    return SettlementCalendar().business_date(at)


async def close(api: Api, finance: RequestSigner, day: date, **more: Any) -> Any:
    body = {"business_date": day.isoformat(), "paying_account": PAYING, **more}
    return await api.call(finance, "POST", "/v1/settlement/batches", body)


def transactions(document: bytes) -> list[tuple[str, str, str, str]]:
    root = ET.fromstring(document)
    return [
        (
            tx.findtext("p:PmtId/p:EndToEndId", namespaces=NS) or "",
            tx.findtext("p:Amt/p:InstdAmt", namespaces=NS) or "",
            tx.findtext("p:CdtrAcct/p:Id/p:Othr/p:Id", namespaces=NS) or "",
            root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId", namespaces=NS) or "",
        )
        for tx in root.iter(f"{{{PAIN_001_NS}}}CdtTrfTxInf")
    ]


async def test_a_day_is_closed_to_the_registered_payout_account(api: Api) -> None:
    day = await collected_day(api)
    finance = await api.client(Role.FINANCE)
    response = await close(api, finance, day)
    assert response.status == 201, await response.text()
    answer = await response.json()
    (batch,) = answer["batches"]
    assert (batch["payee_account"], batch["status"]) == (AGENCY, "closed")
    assert answer["total_vnd"] == batch["net_vnd"] > 0
    file = await api.call(finance, "GET", batch["links"]["pain001"])
    assert file.status == 200
    assert file.content_type == "application/xml"
    document = await file.read()
    SCHEMA.assertValid(etree.fromstring(document))
    assert transactions(document) == [
        (batch["end_to_end_id"], str(batch["net_vnd"]), AGENCY_ACCOUNT["account_no"], batch["message_id"])
    ]
    assert await (await api.call(finance, "GET", batch["links"]["pain001"])).read() == document, "as issued"
    again = await close(api, finance, day)
    assert again.status == 200
    assert (await again.json())["batches"] == [], "nothing is paid twice"


async def test_a_reissue_pays_the_corrected_account_with_the_same_end_to_end_id(api: Api) -> None:
    day = await collected_day(api)
    finance, admin = await api.client(Role.FINANCE), await api.client(Role.ADMIN)
    (batch,) = (await (await close(api, finance, day)).json())["batches"]
    corrected = {**AGENCY_ACCOUNT, "account_no": "1500201099999"}
    fixed = {"name": "So Tu phap Ha Noi", "kind": "agency", "payout_account": payout(corrected)}
    assert (await api.call(admin, "PUT", "/v1/payees/so-tu-phap", fixed)).status == 200
    response = await api.call(finance, "POST", f"{batch['links']['self']}/reissue", {})
    assert response.status == 200, await response.text()
    reissued = await response.json()
    assert reissued["message_id"] != batch["message_id"]
    assert reissued["reissues"] == [reissued["message_id"]]
    document = await (await api.call(finance, "GET", batch["links"]["pain001"])).read()
    assert transactions(document) == [
        (batch["end_to_end_id"], str(batch["net_vnd"]), "1500201099999", reissued["message_id"])
    ]


async def test_a_payee_without_a_payout_account_closes_nothing(api: Api) -> None:
    day = await collected_day(api, payout_account=None)
    finance = await api.client(Role.FINANCE)
    before = (await api.store.head()).position
    response = await close(api, finance, day)
    assert response.status == 422
    problem = await response.json()
    assert "so-tu-phap has no payout_account" in problem["detail"]
    assert (await api.store.head()).position == before


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"business_date": "2026-13-01"}, 422),
        ({"cutoff": "24:00"}, 422),
        ({"paying_account": {**PAYING, "bank_bin": "123"}}, 422),
        ({"paying_account": {**PAYING, "bank_bin": "999999"}}, 422),
        ({"business_date": "2999-01-01"}, 422),
    ],
)
async def test_bad_closes_are_refused(api: Api, change: dict[str, Any], status: int) -> None:
    finance = await api.client(Role.FINANCE)
    body = {"business_date": "2026-11-23", "paying_account": PAYING, **change}
    response = await api.call(finance, "POST", "/v1/settlement/batches", body)
    assert response.status == status, await response.text()
    assert response.content_type == "application/problem+json"


async def test_unknown_batches_and_answers_match_the_spec(api: Api) -> None:
    spec = await (await api.call(None, "GET", "/openapi.json")).json()
    day = await collected_day(api)
    finance = await api.client(Role.FINANCE)
    closed = await close(api, finance, day)
    await check_against_spec(spec, "POST", "/v1/settlement/batches", closed)
    (batch,) = (await closed.json())["batches"]
    read = await api.call(finance, "GET", batch["links"]["self"])
    await check_against_spec(spec, "GET", "/v1/settlement/batches/{batch_id}", read)
    reissued = await api.call(finance, "POST", f"{batch['links']['self']}/reissue", {})
    await check_against_spec(spec, "POST", "/v1/settlement/batches/{batch_id}/reissue", reissued)
    for path in ("/v1/settlement/batches/nope", "/v1/settlement/batches/00000000-0000-0000-0000-000000000000"):
        missing = await api.call(finance, "GET", path)
        await check_against_spec(spec, "GET", "/v1/settlement/batches/{batch_id}", missing)
        assert missing.status == 404
        assert (await api.call(finance, "GET", f"{path}/pain001.xml")).status == 404
