"""The real bank statement samples in ../shared/fixtures/bank (see SOURCES.md there)."""

from __future__ import annotations

from pathlib import Path

from settlement.statements import StatementFile, read_statement_file

BANK_FIXTURES = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "bank"


def load(name: str) -> StatementFile:
    with (BANK_FIXTURES / name).open("rb") as stream:
        return read_statement_file(stream)
