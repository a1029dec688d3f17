"""The lasting name of a reconciliation case: its statement lines and ledger items.

A line is named ``<statement identity>#<entry index>`` (the identity outlives the run,
`settlement.statements.statement_identity`), an item by its ``item_id``. The same lines
and items make the same key in every run that reports them, so a case resolved once is
known as resolved by every later run, and its difference is booked once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def case_key(lines: Iterable[str], items: Iterable[str]) -> str:
    digest = hashlib.sha256("\n".join([*sorted(lines), "|", *sorted(items)]).encode()).hexdigest()[:32]
    return f"reconciliation:{digest}"
