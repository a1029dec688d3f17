"""The ``citysettle resolve`` command lines a report offers for each open case.

One exact command per resolution the case's category allows, naming the run and the
case; the clerk only replaces REASON and USER. ``--store`` is repeated when the run was
given one (never one holding a password: that stays in the environment), and
``--account`` is added with the BIN to fill in when no ledger account of the
statement's bank account is known.
"""

from __future__ import annotations

import shlex
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from settlement.reconciliation.outcomes import Case, Reconciliation
from settlement.reconciliation.runs import ALLOWED, Resolution
from settlement.statements.model import normalise_account


def _has_password(url: str) -> bool:
    parts = urlsplit(url)
    return parts.password is not None or any(k == "password" for k, _ in parse_qsl(parts.query))


@dataclass(frozen=True, slots=True)
class ResolveCommands:
    run_id: str
    store: str | None = None  # the --store the run was given
    known_accounts: Collection[str] = ()  # statement account numbers with a known ledger account

    def for_case(self, result: Reconciliation, number: int, case: Case) -> list[str]:
        """Empty for a settled or resolved case: nothing is left to decide."""
        if case.settled:
            return []
        common = ["--case", str(number)]
        tail = ["--reason", "REASON", "--by", "USER"]
        if self.store is not None and not _has_password(self.store):
            tail += ["--store", self.store]
        if case.lines and not case.items:
            accounts = {result.statements[result.line_statement[line]].account for line in case.lines}
            unknown = sorted(a for a in accounts if normalise_account(a) not in self.known_accounts)
            for account in unknown:
                tail += ["--account", f"{account}=bank:BIN:{account}"]
        allowed = [r for r in Resolution if r in ALLOWED[case.category]]
        return [
            shlex.join(["citysettle", "resolve", "--run", self.run_id, *common, "--resolution", r.value, *tail])
            for r in allowed
        ]
