"""The counter display as a citizen at the counter sees it, against a real running
`citysettle serve`: the clerk's terminal asks for the payment (POST /v1/payments), the
screen opens its display link in headless Chromium and shows the QR (read back from the
screenshot), PayOS posts its signed notification, and the screen says "Đã thanh toán"
without a reload — the time from the post to the change is measured in the page. A
second screen loses its server, the payment changes meanwhile, and once the server is
back the screen catches up by itself (EventSource's reconnection with Last-Event-ID).
Screenshots are kept in var/artifacts/e2e."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from PIL import Image
from playwright.sync_api import Page

from adapters.http.signing import RequestSigner
from domain.services.payment_purposes import ON_PAID
from domain.services.payments import BankNotice, credit_bank_transfer
from domain.services.unit_of_work import execute
from ops.config import Config
from ops.stores import open_store
from tests.integration.test_http_fees import BANK, INVOICE, SERVICE
from tests.support.banks import payos_data, payos_request
from tests.support.browser import artefact, browser_page
from tests.support.cli import citysettle, new_store
from tests.support.live import free_port, serving

WIDTH, HEIGHT = 1280, 800  # a 10-inch tablet, landscape
PAYEE_NAME = "Sở Tư pháp Hà Nội"
PAYOS_SECRET = b"payos-checksum-key-0123456789abcdef"
NBSP = "\u00a0"
CHANGE_MAX_S = 1.0  # the issue: the screen changes within a second of the bank's notice
# Records, in the page, the moment the status first reads `text` (Date.now(), ms).
WATCH_STATUS = """text => {
  window.__changedAt = null;
  const status = document.getElementById("status-text");
  new MutationObserver(() => {
    if (window.__changedAt === null && status.textContent.includes(text)) { window.__changedAt = Date.now(); }
  }).observe(status, {childList: true, characterData: true, subtree: true});
}"""


@dataclass
class Service:
    base: str
    store_url: str
    terminal: RequestSigner
    admin: RequestSigner

    def call(self, signer: RequestSigner, method: str, path: str, body: Any) -> Any:
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": f"e2e-{time.monotonic_ns()}"}
        headers = signer.sign(method, self.base + path, data, headers)
        response = requests.request(method, self.base + path, data=data, headers=headers, timeout=10)
        assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    def payment(self) -> dict[str, Any]:
        """What the clerk's terminal does: an invoice, then its QR payment."""
        invoice = self.call(self.terminal, "POST", "/v1/fees/invoices", INVOICE)
        body = {"purpose": "fee_invoice", "purpose_id": invoice["invoice_no"]}
        payment: dict[str, Any] = self.call(self.terminal, "POST", "/v1/payments", body)
        return payment


def _signer(tmp_path: Path, store_url: str, role: str) -> RequestSigner:
    key_file = tmp_path / f"{role}.pem"
    added = citysettle("clients", "add", "--name", f"{role} e2e", "--role", role, "--key-out", str(key_file),
                       "--store", store_url)  # fmt: skip
    assert added.returncode == 0, added.stderr
    key = load_pem_private_key(key_file.read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return RequestSigner(json.loads(added.stdout)["key_id"], key)


@contextmanager
def running(store_url: str, port: int, env: dict[str, str], log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``citysettle serve`` on ``port``, once it is ready, until the block ends: its URL and process."""
    with serving(store_url, 1, log, port, **env) as (process, base):
        for _ in range(300):
            assert process.poll() is None, log.read_text()
            try:
                if requests.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        yield base, process


def _in_a_thread(work: Any) -> Any:
    """Run a coroutine function outside Playwright's own event loop."""
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(asyncio.run(work())))
    thread.start()
    thread.join(30)
    return result[0]


def _credit_in_the_store(store_url: str, payment: dict[str, Any], amount_vnd: int, tx: str) -> None:
    """A bank notice handled while this screen's server is down (by another worker, say)."""

    async def credit() -> None:
        store = await open_store(Config(store_url=store_url))
        try:
            note = f"MBVCB.7.{payment['reference']}.le phi"
            now = datetime.now(UTC)
            notice = BankNotice(payment["bank_bin"], payment["account_no"], tx, amount_vnd, note, now)
            await execute(store, credit_bank_transfer(notice, now, ON_PAID))
        finally:
            await store.close()

    _in_a_thread(credit)


def _payos_notice(base: str, payment: dict[str, Any], tx: str) -> requests.Response:
    data = payos_data(
        amount=payment["amount_vnd"],
        description=f"NGUYEN VAN A chuyen tien {payment['reference']} le phi",
        reference=tx,
        at=datetime.now(UTC),
        account_no=payment["account_no"],
    )
    signed = payos_request(data, PAYOS_SECRET)
    return requests.post(f"{base}/v1/banks/payos/notifications", data=signed.body, headers=signed.headers, timeout=10)


def _status(page: Page) -> str:
    return page.inner_text("#status-text").strip()


def _qr_in(page: Page, name: str) -> str:
    shot = artefact(name)
    page.locator("svg.qr").screenshot(path=str(shot))
    with Image.open(shot) as image:
        found = zxingcpp.read_barcodes(image)
    assert len(found) == 1, f"one readable QR in {shot}"
    return str(found[0].text)


def _setup(tmp_path: Path) -> tuple[str, dict[str, str]]:
    store_url = new_store(f"sqlite:///{tmp_path}/events.db")
    secret = tmp_path / "payos.secret"
    secret.write_bytes(PAYOS_SECRET)
    added = citysettle("banks", "add", "--provider", "payos", "--name", "payos", "--secret-file", str(secret),
                       "--store", store_url)  # fmt: skip
    assert added.returncode == 0, added.stderr
    key = tmp_path / "display.key"
    key.write_text("e2e-display-key-" + "0123456789abcdef" * 2)
    # the same display key across the restart: the screen's link must stay valid
    return store_url, {"CITYSETTLE_DISPLAY_KEY_FILE": str(key), "CITYSETTLE_CLIENT_CACHE_TTL_S": "0"}


def test_the_counter_screen_turns_paid_by_itself(tmp_path: Path) -> None:
    store_url, env = _setup(tmp_path)
    terminal, admin = _signer(tmp_path, store_url, "terminal"), _signer(tmp_path, store_url, "admin")
    port = free_port()
    log = tmp_path / "serve.log"
    with running(store_url, port, env, log) as (base, _):
        service = Service(base, store_url, terminal, admin)
        service.call(
            admin, "PUT", "/v1/payees/stp-hn", {"name": PAYEE_NAME, "kind": "agency", "collection_account": BANK}
        )
        service.call(admin, "PUT", "/v1/payees/ns-hn", {"name": "Ngân sách Hà Nội", "kind": "budget"})
        service.call(admin, "PUT", "/v1/fees/services/LLTP-01", SERVICE)
        first, second = service.payment(), service.payment()
        with browser_page(tmp_path / "chromium-profile", WIDTH, HEIGHT) as page:
            page.goto(base + first["links"]["display"])
            _what_the_citizen_sees(page, first)
            assert _qr_in(page, "counter-qr.png") == first["qr_payload"], "the screen's QR pays this payment"
            page.screenshot(path=str(artefact("counter-pending.png")))
            page.wait_for_function("() => document.getElementById('connection').classList.contains('live')")

            page.evaluate(WATCH_STATUS, "Đã thanh toán")
            posted_at = time.time()
            answer = _payos_notice(base, first, "FT26335PAYOS1")
            assert (answer.status_code, answer.json()) == (200, {"success": True}), answer.text
            page.wait_for_function("() => window.__changedAt !== null", timeout=5_000)
            changed_after_s = float(page.evaluate("() => window.__changedAt")) / 1000 - posted_at
            page.screenshot(path=str(artefact("counter-paid.png")))
            assert _status(page) == "Đã thanh toán"
            assert page.inner_text("#status-other").strip() == "Paid"
            assert not page.locator("svg.qr").is_visible(), "no QR to pay twice"
            assert page.evaluate("() => performance.getEntriesByType('navigation').length") == 1, "no reload"
            artefact("counter-timing.json").write_text(json.dumps({"post_to_paid_s": round(changed_after_s, 3)}))
            print(f"post to 'Đã thanh toán': {changed_after_s * 1000:.0f} ms")
            assert changed_after_s < CHANGE_MAX_S, f"the screen changed {changed_after_s:.3f} s after the post"

            _switch_by_keyboard(page)

            page.goto(base + second["links"]["display"] + "&lang=en")
            assert _status(page) == "Waiting for payment"
            page.wait_for_function("() => document.getElementById('connection').classList.contains('live')")
            page.screenshot(path=str(artefact("counter-pending-en.png")))
    shown = _screen_survives_a_restart(tmp_path, store_url, port, env, log, second)
    assert shown == f"Underpaid — 150.000{NBSP}₫ still due"


def _screen_survives_a_restart(
    tmp_path: Path, store_url: str, port: int, env: dict[str, str], log: Path, payment: dict[str, Any]
) -> str:
    """The server stops under an open screen, money arrives meanwhile, the server comes back:
    the screen shows what it missed without a reload. Returns the status it then shows."""
    with running(store_url, port, env, log) as (base, server), browser_page(tmp_path / "p2", WIDTH, HEIGHT) as page:
        page.goto(base + payment["links"]["display"] + "&lang=en")
        page.wait_for_function("() => document.getElementById('connection').classList.contains('live')")
        server.send_signal(signal.SIGTERM)
        server.wait(30)
        page.wait_for_function("() => document.getElementById('connection').classList.contains('lost')")
        page.screenshot(path=str(artefact("counter-reconnecting-en.png")))
        _credit_in_the_store(store_url, payment, 50_000, "FT26335PART1")
        with running(store_url, port, env, log):
            page.wait_for_function(
                "() => document.getElementById('status-text').textContent.startsWith('Underpaid')", timeout=15_000
            )
            page.screenshot(path=str(artefact("counter-underpaid-en.png")))
            assert page.evaluate("() => performance.getEntriesByType('navigation').length") == 1, "no reload"
            return _status(page)


def _what_the_citizen_sees(page: Page, payment: dict[str, Any]) -> None:
    assert page.evaluate("() => document.documentElement.lang") == "vi"
    assert _status(page) == "Chờ thanh toán"
    assert page.inner_text(".payee").strip() == PAYEE_NAME
    assert page.inner_text("#amount").strip() == f"200.000{NBSP}₫"
    assert page.inner_text("#reference").strip() == payment["reference"]
    left = page.inner_text("#time-left").strip()
    minutes, seconds = (int(p) for p in left.split(":"))
    assert 13 * 60 < minutes * 60 + seconds <= 15 * 60, left
    assert page.get_attribute("[role=status]", "aria-live") == "polite"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the tablet"
    tall = page.evaluate("document.documentElement.scrollHeight - window.innerHeight")
    assert tall <= 0, f"the page is {tall}px taller than the tablet: everything must show at once"


def _switch_by_keyboard(page: Page) -> None:
    """Tab reaches the skip link, then the language switch; Enter opens the same screen in English."""
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.className") == "skip"
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "English"
    page.keyboard.press("Enter")
    page.wait_for_url("**lang=en")
    assert "t=" in page.url, "the switch keeps the link's token"
    assert _status(page) == "Paid"
    assert page.evaluate("() => document.documentElement.lang") == "en"
