"""The real bank statement samples in tests/fixtures/bank (see SOURCES.md there)."""

from __future__ import annotations

from settlement.statements import StatementFile, read_statement_file
from tests.support.fixtures import BANK_FIXTURES

__all__ = ["BANK_FIXTURES", "load"]


def load(name: str) -> StatementFile:
    with (BANK_FIXTURES / name).open("rb") as stream:
        return read_statement_file(stream)
