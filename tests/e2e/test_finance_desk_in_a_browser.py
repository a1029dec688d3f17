"""The finance desk in a real browser against a real running server (issue 12): a finance
user signs in, uploads a real bank statement (tests/fixtures/bank) and the day's own,
sees the exceptions, opens one with both sides, resolves it, and the ledger changes; an
auditor sees the same pages without a form and is refused (403) when posting anyway.
Headless Debian Chromium through Playwright (`tests/e2e/test_report_in_a_browser.py`);
the screenshots are kept in tests/e2e/artefacts/ (not committed) to be looked at."""

from __future__ import annotations

import asyncio
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect, sync_playwright

from domain.model.balances import Balance
from domain.services.balances import account_key
from ops.config import Config
from ops.stores import open_store
from tests.e2e.test_report_in_a_browser import _assert_a_rendered_page
from tests.integration.test_reconcile_cli import _seed
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium
from tests.support.catalogue import TREASURY
from tests.support.cli import citysettle
from tests.support.csv_statements import write_csv_statement
from tests.support.desk import PASSWORD
from tests.support.fixtures import BANK_FIXTURES
from tests.support.live import serving

ARTEFACTS = Path(__file__).resolve().parent / "artefacts"
DAY = "2026-11-23"
REAL_STATEMENT = BANK_FIXTURES / "camt053_v2_minimal__genkgo.xml"


def _users(url: str, tmp_path: Path) -> None:
    secret = tmp_path / "password.txt"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    for name, role in (("lan", "finance"), ("kiem", "auditor")):
        done = citysettle(
            "users", "add", "--name", name, "--role", role, "--password-file", str(secret), "--store", url
        )
        assert done.returncode == 0, done.stderr


def _day_statement(tmp_path: Path, paid: list[Any]) -> Path:
    """The bank's view of the seeded day: what the ledger has (two fees, a 7.000 ₫ stray
    credit already in suspense), and a 50.000 ₫ transfer the ledger has not."""
    common = {"account": TREASURY.account_no, "statement_id": "S23", "currency": "VND", "direction": "CRDT",
              "booking_date": DAY, "value_date": DAY}  # fmt: skip
    rows: list[dict[str, object]] = [
        {**common, "amount": line.amount_vnd, "bank_tx_id": line.acct_svcr_ref, "remittance": line.remittance}
        for line in paid
    ]
    rows.append({**common, "amount": 50_000, "bank_tx_id": "FT26327ODD1", "remittance": "chuyen nham"})
    return write_csv_statement(tmp_path / "day.csv", rows)


def _wait_ready(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1):  # our own server
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the server did not start")


@contextmanager
def _page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    try:
        yield context.new_page()
    finally:
        context.close()


def _shot(page: Page, name: str) -> Path:
    """A screenshot of the whole page, kept to be looked at; the page fits the window's width."""
    ARTEFACTS.mkdir(exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    _assert_a_rendered_page(path)
    overflow: Any = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name}: the page is {overflow}px wider than the window"
    return path


def _sign_in(page: Page, base: str, name: str) -> None:
    page.goto(f"{base}/finance")
    expect(page).to_have_url(f"{base}/finance/login?next=/finance")
    page.get_by_label("Tên đăng nhập").fill(name)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page).to_have_url(f"{base}/finance")
    expect(page.locator(".user-name")).to_have_text(name)


def _upload(page: Page, base: str, statement: Path) -> str:
    page.goto(f"{base}/finance?day={DAY}")
    page.get_by_label("Tệp sao kê").set_input_files(str(statement))
    page.get_by_role("button", name="Đối soát").click()
    page.wait_for_url(f"{base}/finance/runs/*")
    return page.url.rsplit("/", 1)[1]


def _suspense_credits(url: str) -> int:
    async def read() -> int:
        store = await open_store(Config(store_url=url))
        try:
            head = (await store.head()).position
            for _ in range(500):
                if await store.tracking_position("ledger_balances") >= head:
                    break
                await asyncio.sleep(0.02)
            key = account_key("suspense")
            found: Any = (await store.get_rows("ledger_balances", [key])).get(key)
            return Balance.from_dict(found).posted_credits_vnd
        finally:
            await store.close()

    # Playwright's sync API runs its own event loop in this thread: read from another one.
    with ThreadPoolExecutor(1) as other:
        return other.submit(asyncio.run, read()).result()


def test_finance_resolves_an_exception_in_a_browser_and_the_auditor_cannot(tmp_path: Path) -> None:
    require_chromium()
    url = f"sqlite:///{tmp_path}/events.db"
    paid = asyncio.run(_seed(url, 2))
    _users(url, tmp_path)
    statement = _day_statement(tmp_path, paid)
    with serving(url, 1, tmp_path / "serve.log") as (_, base), sync_playwright() as playwright:
        _wait_ready(base)
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            with _page(browser) as page:
                foreign = _finance_user(page, base, url, statement)
            with _page(browser) as page:
                _auditor(page, base, url, foreign)
        finally:
            browser.close()


def _finance_user(page: Page, base: str, url: str, statement: Path) -> str:
    """Returns the run of the real statement, whose exceptions stay open."""
    _sign_in(page, base, "lan")
    page.goto(f"{base}/finance?day={DAY}")
    fees = page.locator('tr[data-channel="fees"] td[data-method="cashless"]')
    expect(fees).to_contain_text("400.000\u00a0₫")
    _shot(page, "desk-before")
    # a real bank's statement (genkgo/camt sample): none of its lines is ours
    foreign = _upload(page, base, REAL_STATEMENT)
    expect(page.locator("tr.case")).not_to_have_count(0)
    expect(page.locator("tr.case").first).to_contain_text("Thiếu trong sổ cái")
    _shot(page, "run-real-statement")
    # the day's own statement: two fees match, 50.000 ₫ is not ours
    run = _upload(page, base, statement)
    assert run != foreign
    page.get_by_label("Tình trạng").select_option("open")
    page.get_by_role("button", name="Lọc").click()
    rows = page.locator("tr.case")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("50.000\u00a0₫")
    _shot(page, "run-open-exceptions")
    rows.first.get_by_role("link").click()
    expect(page.locator("#bank-lines")).to_contain_text("FT26327ODD1")
    expect(page.locator("#bank-lines")).to_contain_text("50.000\u00a0₫")
    before = _suspense_credits(url)
    page.get_by_label("Cách xử lý").select_option("write_off")
    page.get_by_label("Lý do").fill("chuyển nhầm, tra soát với ngân hàng")
    _shot(page, "case-before-resolving")
    page.get_by_role("button", name="Xử lý").click()
    expect(page.locator("#done")).to_have_text("Đã xử lý ngoại lệ.")
    expect(page.locator("#decision .resolver")).to_have_text("lan")
    expect(page.locator("#resolve")).to_have_count(0)
    _shot(page, "case-resolved")
    assert _suspense_credits(url) - before == 50_000, "the write-off put the stray 50.000 ₫ in suspense"
    page.goto(f"{base}/finance")  # the write-off is posted today, on the 7.000 ₫ already there
    suspense = page.locator('tr[data-account="suspense"] td')
    expect(suspense.nth(0)).to_have_text("50.000\u00a0₫")
    expect(suspense.nth(2)).to_have_text("57.000\u00a0₫")
    _shot(page, "desk-after")
    return foreign


def _auditor(page: Page, base: str, url: str, run: str) -> None:
    _sign_in(page, base, "kiem")
    page.goto(f"{base}/finance?day={DAY}")
    expect(page.locator("#read-only")).to_be_visible()
    expect(page.locator("form#upload")).to_have_count(0)
    expect(page.locator("form#close-day")).to_have_count(0)
    expect(page.locator(f'#runs a[href="/finance/runs/{run}"]')).to_have_count(1)
    page.goto(f"{base}/finance/runs/{run}")
    open_case = page.locator("tr.case[data-state='open']").first
    open_case.get_by_role("link").click()
    expect(page.locator("#resolve")).to_have_count(0)
    _shot(page, "auditor-case")
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    assert csrf
    before = _suspense_credits(url)
    refused = page.request.post(
        page.url + "/resolution", form={"csrf": csrf, "resolution": "write_off", "reason": "auditor tries"}
    )
    assert refused.status == 403
    assert "Kiểm toán viên chỉ được xem" in refused.text()
    assert _suspense_credits(url) == before
