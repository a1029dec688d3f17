"""``citysettle serve --workers 2`` as its operator runs it, on PostgreSQL: both workers
answer on one port, exactly one follows the log, a SIGKILLed leader's duties are taken
over by the other worker (and the dead one is started again), metrics are one view."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.eventstore.postgres import PostgresEventStore
from adapters.http.signing import RequestSigner
from domain.model.clients import Role
from domain.services.payment_purposes import ON_PAID
from domain.services.payments import BankNotice, credit_bank_transfer
from domain.services.unit_of_work import execute
from tests.integration.test_http_fees import BANK, INVOICE, SERVICE
from tests.support.api import new_client
from tests.support.live import LiveApi, deadline, serving

AGENCY = "/v1/ledger/accounts/payable:agency:stp-hn"
LEADER = re.compile(r'^citysettle_projection_leader\{pid="(\d+)"\} 1\.0$', re.MULTILINE)


async def until_ready(api: LiveApi, seconds: float) -> set[str]:
    """Poll /readyz on fresh connections until both workers answered; the workers seen."""
    seen: set[str] = set()
    end = deadline(seconds)
    while len(seen) < 2:
        assert time.monotonic() < end, f"workers seen: {seen}"
        try:
            response = await api.call(None, "GET", "/readyz")
        except aiohttp.ClientConnectionError:
            await asyncio.sleep(0.1)
            continue
        if response.status == 200:
            seen.add(response.headers["Citysettle-Worker"])
    return seen


async def metrics(api: LiveApi) -> str:
    response = await api.call(None, "GET", "/metrics")
    assert response.status == 200
    return await response.text()


async def leader(api: LiveApi, seconds: float, not_pid: int = 0) -> int:
    end = deadline(seconds)
    while time.monotonic() < end:
        # a SIGKILLed worker's gauge lasts until the parent has seen it die (its next poll)
        pids = [int(p) for p in LEADER.findall(await metrics(api)) if int(p) != not_pid]
        if len(pids) == 1:
            return pids[0]
        assert len(pids) <= 1, f"two leaders at once: {pids}"
        await asyncio.sleep(0.1)
    raise AssertionError("no worker took the projections over")


async def paid_invoice(api: LiveApi, store: Any, terminal: RequestSigner, tx: str) -> None:
    invoice = await api.json(terminal, "POST", "/v1/fees/invoices", INVOICE)
    payment = invoice["payment"]
    note = f"MBVCB.1.{payment['reference']}.le phi"
    notice = BankNotice(payment["bank_bin"], payment["account_no"], tx, payment["amount_vnd"], note, datetime.now(UTC))
    await execute(store, credit_bank_transfer(notice, datetime.now(UTC), ON_PAID))


async def agency_balance(api: LiveApi, finance: RequestSigner, expected: int, seconds: float) -> None:
    end = deadline(seconds)
    balance = None
    while time.monotonic() < end:
        response = await api.call(finance, "GET", AGENCY)
        if response.status == 200:
            balance = (await response.json())["balance_vnd"]
            if balance == expected:
                return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the agency's payable stayed at {balance}, expected {expected}")


async def test_two_workers_share_the_port_and_hand_the_projections_over(pg_url: str, tmp_path: Path) -> None:
    store = await PostgresEventStore.open(pg_url)  # creates the schema; clients registered straight in it
    admin, terminal, finance = [await new_client(store, r) for r in (Role.ADMIN, Role.TERMINAL, Role.FINANCE)]
    try:
        connector = aiohttp.TCPConnector(force_close=True)  # a connection per request: the kernel spreads them
        with serving(pg_url, 2, tmp_path / "serve.log") as (process, base):
            async with aiohttp.ClientSession(connector=connector) as session:
                api = LiveApi(session, base)
                assert await until_ready(api, 30) == {"1", "2"}
                first = await leader(api, 10)

                body = {"name": "So Tu phap", "kind": "agency", "collection_account": BANK}
                await api.json(admin, "PUT", "/v1/payees/stp-hn", body)
                await api.json(admin, "PUT", "/v1/payees/ns-hn", {"name": "Ngan sach Ha Noi", "kind": "budget"})
                await api.json(admin, "PUT", "/v1/fees/services/LLTP-01", SERVICE)
                await paid_invoice(api, store, terminal, "FT1")
                await agency_balance(api, finance, 200_000, 15)

                os.kill(first, signal.SIGKILL)
                second = await leader(api, 15, not_pid=first)
                await paid_invoice(api, store, terminal, "FT2")
                await agency_balance(api, finance, 400_000, 15)  # projected by the new leader
                assert await until_ready(api, 30) == {"1", "2"}, "the killed worker was started again"

                text = await metrics(api)
                # one view: the PUTs summed over whichever workers answered them, the killed one included
                assert (
                    'citysettle_http_requests_total{method="PUT",route="/v1/payees/{payee_id}",status="201"} 2.0'
                    in text
                )
                assert f'citysettle_projection_leader{{pid="{first}"}}' not in text, "a dead worker is not shown"
                assert f'citysettle_projection_leader{{pid="{second}"}} 1.0' in text
            process.send_signal(signal.SIGTERM)
            assert process.wait(30) == 0
    finally:
        await store.close()
    log = (tmp_path / "serve.log").read_text()
    assert "all workers stopped" in log
    assert "Traceback" not in log


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--port", "0"], "--port must be between 1 and 65535, got 0"),
        (["--port", "65536"], "--port must be between 1 and 65535, got 65536"),
        (["--port", "http"], "--port must be a number between 1 and 65535, got 'http'"),
        (["--host", "no-such-host.invalid"], "--host 'no-such-host.invalid' is neither an IP address"),
        (["--workers", "0"], "--workers must be between 1 and 32, got 0"),
        (["--workers", "two"], "--workers must be between 1 and 32, got 'two'"),
    ],
)
def test_bad_listen_flags_are_one_line_and_exit_2(
    flags: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ops.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["serve", "--store", f"sqlite:///{tmp_path}/db", *flags])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert message in err
    assert not (tmp_path / "db").exists(), "nothing was created"


async def test_a_sqlite_store_s_development_ticket_key_is_made_and_said_once_for_every_worker(tmp_path: Path) -> None:
    """The preflight resolves the key and passes its path on: the workers sign with that
    same key and neither look for it again nor announce it again (one warning, not 1 + N)."""
    log = tmp_path / "serve.log"
    with serving(f"sqlite:///{tmp_path}/events.db", 2, log):
        end = deadline(60)
        while log.read_text(encoding="utf-8").count("event store open") < 2:  # both workers made their app
            assert time.monotonic() < end, log.read_text(encoding="utf-8")
            await asyncio.sleep(0.2)
    said = [line for line in log.read_text(encoding="utf-8").splitlines() if "development key" in line]
    assert len(said) == 1, said
    assert (tmp_path / "events.db.ticket-ed25519.pem").exists()
