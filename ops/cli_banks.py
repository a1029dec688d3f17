"""``citysettle banks add``: register a bank connector (who may post bank notifications).

The secret (PayOS checksum key, Casso webhook key, SePay API key, or our camt.054 HMAC
key) is read from a file so that it never appears in a shell history or process list,
sealed with the store's cipher key when one is configured, and never printed.
Exit codes: 0 registered, 2 refused (one line on stderr saying what to do).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.secrets import SecretSealer
from domain.model.bank_connectors import BankProvider, SealedSecret
from domain.model.errors import DomainError
from domain.ports import EventStoreError
from domain.services.bank_connectors import register_bank_connector
from domain.services.unit_of_work import execute
from ops.config import Config
from ops.stores import open_store

EXIT_REFUSED = 2
SECRET_MAX_BYTES = 1_024


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
    try:
        sealer = SecretSealer(config.codec.cipher_key)
    except ValueError as exc:
        raise Refused(f"CITYSETTLE_CIPHER_KEY is unusable: {exc}") from None
    sealed = SealedSecret(sealer.seal(secret))
    store = await open_store(config)
    try:
        outcome = await execute(store, register_bank_connector(name, provider, sealed, datetime.now(UTC)))
    finally:
        await store.close()
    return {**outcome.result, "secret_encrypted": sealer.encrypts}


def _add_command(args: argparse.Namespace) -> int:
    config = Config.from_env().with_overrides(store_url=args.store)
    provider = BankProvider(args.provider)
    try:
        secret = read_secret(args.secret_file)
        result = asyncio.run(add_connector(config, args.name or provider.value, provider, secret))
    except Refused as exc:
        print(f"citysettle banks add: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except DomainError as exc:
        print(f"citysettle banks add: refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except (OSError, EventStoreError) as exc:
        print(f"citysettle banks add: cannot reach the event store: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    if not result["secret_encrypted"]:
        print("citysettle banks add: note: no CITYSETTLE_CIPHER_KEY, the secret is stored unencrypted", file=sys.stderr)
    print(json.dumps(result))
    return 0


def register(commands: Any) -> None:
    banks = commands.add_parser("banks", help="bank connectors: who may post bank notifications")
    actions = banks.add_subparsers(dest="banks_command", required=True)
    add = actions.add_parser("add", help="register a bank connector (POST /v1/banks/NAME/notifications)")
    add.add_argument("--provider", required=True, choices=[p.value for p in BankProvider])
    add.add_argument("--name", help="the connector's name in the URL (default: the provider's)")
    add.add_argument("--secret-file", type=Path, required=True, help="file holding the provider's key")
    add.add_argument("--store", help="event store URL (default: $CITYSETTLE_STORE or embedded SQLite)")
    add.set_defaults(handler=_add_command)
