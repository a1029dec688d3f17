"""Bank statements in the CSV layout (`settlement.statements.csv_layout`), row by row."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path


def write_csv_statement(path: Path, rows: Sequence[Mapping[str, object]]) -> Path:
    """One header of every column the rows use, in the order they first appear."""
    columns = list(dict.fromkeys(column for row in rows for column in row))
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path
