"""Where Debian's Chromium could not be installed, the browser tests skip and say why
(issue 12: `make test` still passes there), instead of failing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import browser


def test_a_missing_chromium_skips_the_browser_test_naming_why(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "no-chromium")
    with pytest.raises(pytest.skip.Exception, match="could not install chromium"):
        browser.require_chromium()


def test_an_installed_chromium_lets_the_test_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    present = tmp_path / "chromium"
    present.write_text("")
    monkeypatch.setattr(browser, "CHROMIUM", present)
    browser.require_chromium()
