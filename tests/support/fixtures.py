"""Where the real sample files live: tests/fixtures/ (sources and licences in each SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BANK_FIXTURES = FIXTURES / "bank"
QR_FIXTURES = FIXTURES / "qr"
