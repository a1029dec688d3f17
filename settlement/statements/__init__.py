"""Bank statements: one typed model, parsers for camt.053/054, MT940 and a CSV layout."""

from settlement.statements.errors import StatementError
from settlement.statements.importer import (
    ImportedStatement,
    RepeatedStatement,
    StatementFile,
    StatementFormat,
    detect_format,
    distinct,
    read_statement_file,
    statement_identity,
)
from settlement.statements.model import Balance, BalanceRole, Batch, Direction, Entry, Statement, TxDetail

__all__ = [
    "Balance",
    "BalanceRole",
    "Batch",
    "Direction",
    "Entry",
    "ImportedStatement",
    "RepeatedStatement",
    "Statement",
    "StatementError",
    "StatementFile",
    "StatementFormat",
    "TxDetail",
    "detect_format",
    "distinct",
    "read_statement_file",
    "statement_identity",
]
