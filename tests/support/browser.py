"""Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by
Playwright (its own browser builds are never downloaded; scripts/ensure_chromium.sh
installs the package, `make test` runs it first). Screenshots go to var/artifacts/e2e
(git-ignored) so they can be looked at after a run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "artifacts" / "e2e"


@contextmanager
def browser_page(profile: Path, width: int = 1280, height: int = 900) -> Iterator[Page]:
    """A page of a headless Chromium with a fresh user-data folder. Playwright's sync API
    runs an event loop of its own: do asyncio work before this opens or after it closes."""
    require_chromium()
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": width, "height": height},
            locale="vi-VN",
        )
        try:
            yield context.new_page()
        finally:
            context.close()


def require_chromium() -> None:
    """Skip the calling browser test, saying why, where Debian's Chromium is not installed
    (scripts/ensure_chromium.sh could not install it; on the project's machines it is)."""
    if not CHROMIUM.exists():
        pytest.skip(f"browser test skipped: no {CHROMIUM} (scripts/ensure_chromium.sh could not install chromium)")


def artefact(name: str) -> Path:
    """Where a test keeps a screenshot for people to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name
