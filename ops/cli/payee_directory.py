"""The payee directory file of ``citysettle settle``: our paying account and each payee's
bank account, all checked before anything is closed (see `ops.cli.settle`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from domain.model.errors import DomainError, InvalidValue
from settlement.payouts.pain001 import BankAccount, PayeeDirectory

_ACCOUNT_FIELDS = ("bank_bin", "account_no", "name")


def _account(where: str, value: Any, problems: list[str]) -> BankAccount | None:
    if not isinstance(value, dict):
        problems.append(f"{where} must be an object with {', '.join(_ACCOUNT_FIELDS)}")
        return None
    missing = [f for f in _ACCOUNT_FIELDS if f not in value]
    found = [
        *(f"{f} is missing" for f in missing),
        *(f"{f} is not a field" for f in sorted(set(value) - set(_ACCOUNT_FIELDS))),
    ]
    if not missing:
        try:
            account = BankAccount(value["bank_bin"], value["account_no"], value["name"])
        except InvalidValue as exc:
            found.append(str(exc))
    if found:
        problems.append(f"{where}: " + "; ".join(found))
        return None
    return account


def load_directory(path: Path) -> tuple[BankAccount, PayeeDirectory, set[str]]:
    """Every problem of the file at once, so one corrected file is enough."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DomainError(f"cannot read the payee directory {path}: {exc}") from None
    problems: list[str] = []
    if not isinstance(raw, dict) or not isinstance(raw.get("payees"), dict):
        raise InvalidValue(f"the payee directory {path} needs a paying_account and a payees object")
    paying = _account("paying_account", raw.get("paying_account"), problems)
    payees = {key: _account(f"payees[{key}]", value, problems) for key, value in raw["payees"].items()}
    if problems or paying is None:
        raise InvalidValue(f"fix the payee directory {path}: " + " | ".join(problems))
    accounts = {key: account for key, account in payees.items() if account is not None}
    return paying, PayeeDirectory(accounts), set(accounts)
