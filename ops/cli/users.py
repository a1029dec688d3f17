"""``citysettle users``: who may sign in to the finance desk (``/finance``).

    citysettle users add --name NAME --role finance|auditor [--password-file FILE] [--store URL]
    citysettle users list [--store URL]
    citysettle users disable --name NAME --reason TEXT [--store URL]

``add`` asks for the password twice on the terminal (nothing is echoed), or reads the
first line of ``--password-file``; at least 12 characters. The store keeps only its
Argon2id hash, sealed with the cipher key when there is one (`adapters.passwords`);
nothing prints a password or a hash. Each change is an event (`domain.model.users`), so
the log says who was allowed what, and when. ``disable`` ends the user's sessions at once.
Exit 0 done, 1 refused (one line on stderr says why).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.passwords import PasswordBook, WeakPassword
from adapters.secrets import SecretSealer
from domain.model.clients import Role
from domain.model.errors import DomainError
from domain.model.users import DESK_ROLES
from domain.services.users import disable_user, list_users, register_user
from ops.config import Config
from ops.stores import run_use_case, with_store

EXIT_REFUSED = 1


class Refused(Exception):
    """The command cannot be carried out; the message says what to do."""


def _password(args: argparse.Namespace) -> str:
    if args.password_file is not None:
        try:
            lines = args.password_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise Refused(f"cannot read --password-file {args.password_file}: {exc}") from None
        if not lines:
            raise Refused(f"--password-file {args.password_file} is empty: put the password on its first line")
        return str(lines[0])
    if not sys.stdin.isatty():
        raise Refused("no terminal to ask for the password: give --password-file FILE")
    first = getpass.getpass(f"password for {args.name}: ")
    if getpass.getpass("the same password again: ") != first:
        raise Refused("the two passwords differ; run the command again")
    return first


def _command(args: argparse.Namespace) -> int:
    config = Config.from_env().with_overrides(store_url=args.store)
    now = datetime.now(UTC)
    try:
        if args.users_command == "list":
            out: Any = asyncio.run(with_store(config, list_users))
        elif args.users_command == "add":
            sealed = PasswordBook(SecretSealer(config.codec.cipher_key)).seal(_password(args))
            out = asyncio.run(
                run_use_case(config, register_user(name=args.name, role=Role(args.role), password=sealed, at=now))
            )
        else:
            out = asyncio.run(run_use_case(config, disable_user(args.name, args.reason, now)))
    except (Refused, DomainError, WeakPassword) as exc:
        print(f"citysettle users {args.users_command}: refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    print(json.dumps(out, ensure_ascii=False))
    return 0


def register(commands: Any) -> None:
    group = commands.add_parser("users", help="finance desk users (/finance): who may sign in, with which role")
    sub = group.add_subparsers(dest="users_command", required=True)
    add = sub.add_parser("add", help="register a user with a password (asked for, or --password-file)")
    add.add_argument("--name", required=True, help="sign-in name: lower-case letters, digits, '.', '_', '-'")
    add.add_argument("--role", required=True, choices=[r.value for r in DESK_ROLES])
    add.add_argument("--password-file", type=Path, help="read the password from the first line of FILE")
    disable = sub.add_parser("disable", help="disable a user: no more sign-ins, open sessions end")
    disable.add_argument("--name", required=True)
    disable.add_argument("--reason", required=True)
    listing = sub.add_parser("list", help="every user, with role and state (never a password or hash)")
    for cmd in (add, disable, listing):
        cmd.add_argument("--store", help="event store URL (default: $CITYSETTLE_STORE or embedded SQLite)")
        cmd.set_defaults(handler=_command)
