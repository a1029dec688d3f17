"""``citysettle banks add``: register a bank connector (who may post bank notifications);
``citysettle banks rotate``: replace its secret (`BankConnector.SecretRotated`), the old one
accepted for a bounded grace (``--grace-s``, default 15 minutes, at most a day) and refused after.

The secret (PayOS checksum key, Casso webhook key, SePay API key, or our camt.054 HMAC
key) is read from a file so that it never appears in a shell history or process list,
sealed with the store's cipher key when one is configured, and never printed.
Exit codes: 0 registered, 2 refused (one line on stderr saying what to do).
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import json
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.eventstore.base import StoreNotFound
from adapters.secrets import SecretSealer, SecretUnreadable
from domain.model.bank_connectors import ROTATION_GRACE_MAX, BankProvider, SealedSecret
from domain.model.errors import DomainError
from domain.ports import EventStoreError
from domain.services.bank_connectors import find_bank_connector, register_bank_connector, rotate_bank_connector_secret
from domain.services.unit_of_work import execute
from ops.config import Config
from ops.stores import open_store

EXIT_REFUSED = 2
SECRET_MAX_BYTES = 1_024
# Notices the provider signed before the switch, and its retries of them, still carry
# the old signature: PayOS and Casso retry for minutes, so a quarter of an hour covers
# them; a leaked secret is rotated with --grace-s 0.
DEFAULT_GRACE_S = 900
GRACE_MAX_S = int(ROTATION_GRACE_MAX.total_seconds())


class Refused(Exception):
    """The command cannot go ahead; the message says what to do instead."""


def read_secret(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise Refused(f"cannot read the secret file {path}: {exc.strerror or exc}") from None
    secret = raw.strip()  # editors add a trailing newline; no provider's key has edge whitespace
    if not secret:
        raise Refused(f"the secret file {path} is empty: put the provider's key in it")
    if len(secret) > SECRET_MAX_BYTES:
        raise Refused(f"the secret file {path} holds more than {SECRET_MAX_BYTES} bytes: is it the right file?")
    return secret


async def add_connector(config: Config, name: str, provider: BankProvider, secret: bytes) -> dict[str, Any]:
    sealer = _sealer(config)
    sealed = SealedSecret(sealer.seal(secret))
    store = await open_store(config)
    try:
        outcome = await execute(store, register_bank_connector(name, provider, sealed, datetime.now(UTC)))
    finally:
        await store.close()
    return {**outcome.result, "secret_encrypted": sealer.encrypts}


async def rotate_secret(config: Config, name: str, secret: bytes, grace: timedelta) -> dict[str, Any]:
    sealer = _sealer(config)
    store = await open_store(config, create=False)
    try:
        connector = await find_bank_connector(store, name)
        if connector is None:
            raise Refused(f"no bank connector named {name!r}: register it with `citysettle banks add`")
        try:
            current = sealer.open(connector.secret.value)
        except SecretUnreadable:
            raise Refused(
                "the current secret cannot be opened: set the CITYSETTLE_CIPHER_KEY it was sealed with"
            ) from None
        if hmac.compare_digest(current, secret):
            raise Refused(f"that is connector {name}'s current secret: put the new one in the file")
        sealed = SealedSecret(sealer.seal(secret))
        outcome = await execute(store, rotate_bank_connector_secret(name, sealed, grace, datetime.now(UTC)))
    finally:
        await store.close()
    return {**outcome.result, "secret_encrypted": sealer.encrypts}


def _sealer(config: Config) -> SecretSealer:
    try:
        return SecretSealer(config.codec.cipher_key)
    except ValueError as exc:
        raise Refused(f"CITYSETTLE_CIPHER_KEY is unusable: {exc}") from None


def _rotate_command(args: argparse.Namespace) -> int:
    config = Config.from_env().with_overrides(store_url=args.store)
    grace_s = args.grace_s
    if not 0 <= grace_s <= GRACE_MAX_S:
        print(f"citysettle banks rotate: --grace-s must be 0 to {GRACE_MAX_S} seconds", file=sys.stderr)
        return EXIT_REFUSED
    return _run(
        "rotate",
        lambda: rotate_secret(config, args.name, read_secret(args.secret_file), timedelta(seconds=grace_s)),
    )


def _run(command: str, action: Callable[[], Coroutine[Any, Any, dict[str, Any]]]) -> int:
    try:
        result = asyncio.run(action())
    except Refused as exc:
        print(f"citysettle banks {command}: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except DomainError as exc:
        print(f"citysettle banks {command}: refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except StoreNotFound as exc:
        print(f"citysettle banks {command}: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except (OSError, EventStoreError) as exc:
        print(f"citysettle banks {command}: cannot reach the event store: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    if not result["secret_encrypted"]:
        print(f"citysettle banks {command}: note: no CITYSETTLE_CIPHER_KEY, the secret is stored unencrypted",
              file=sys.stderr)  # fmt: skip
    print(json.dumps(result))
    return 0


def _add_command(args: argparse.Namespace) -> int:
    config = Config.from_env().with_overrides(store_url=args.store)
    provider = BankProvider(args.provider)
    return _run(
        "add", lambda: add_connector(config, args.name or provider.value, provider, read_secret(args.secret_file))
    )


def register(commands: Any) -> None:
    banks = commands.add_parser("banks", help="bank connectors: who may post bank notifications")
    actions = banks.add_subparsers(dest="banks_command", required=True)
    add = actions.add_parser("add", help="register a bank connector (POST /v1/banks/NAME/notifications)")
    add.add_argument("--provider", required=True, choices=[p.value for p in BankProvider])
    add.add_argument("--name", help="the connector's name in the URL (default: the provider's)")
    add.add_argument("--secret-file", type=Path, required=True, help="file holding the provider's key")
    add.add_argument("--store", help="event store URL (default: $CITYSETTLE_STORE or embedded SQLite)")
    add.set_defaults(handler=_add_command)
    rotate = actions.add_parser(
        "rotate", help="replace a connector's secret (recorded as an event; the old one ends after --grace-s)"
    )
    rotate.add_argument("--name", required=True, help="the connector's name")
    rotate.add_argument("--secret-file", type=Path, required=True, help="file holding the provider's new key")
    rotate.add_argument(
        "--grace-s", type=int, default=DEFAULT_GRACE_S,
        help=f"seconds the old secret is still accepted, 0-{GRACE_MAX_S} (default {DEFAULT_GRACE_S}; 0: leaked)",
    )  # fmt: skip
    rotate.add_argument("--store", help="event store URL (default: $CITYSETTLE_STORE or embedded SQLite)")
    rotate.set_defaults(handler=_rotate_command)
