"""``citysettle clients``: register API clients and manage their signing keys.

    citysettle clients add --name NAME --role ROLE [--algorithm ed25519|hmac-sha256]
                           [--key-out FILE] [--scope ID ...] [--store URL]
    citysettle clients list [--store URL]
    citysettle clients rotate --client ID [--algorithm A] [--key-out FILE] [--grace-s N] [--store URL]
    citysettle clients revoke --client ID --reason TEXT [--store URL]

``add`` and ``rotate`` print ``{"client_id", "key_id", "role", "algorithm", "secret"?}``.
An Ed25519 private key is written (PKCS#8 PEM, mode 0600) to ``--key-out`` and never
stored: the service keeps only the public key. An HMAC secret is printed once (and
written to ``--key-out`` when given); the store keeps it sealed with the cipher key.
Exit 0 done, 1 refused (one line on stderr says why).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import secrets
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.secrets import SecretSealer
from domain.model.clients import KeyAlgorithm, Role
from domain.model.errors import DomainError
from domain.services.clients import list_clients, register_client, revoke_client, rotate_client_key
from domain.services.unit_of_work import UseCase
from ops.cli.output_paths import file_problem
from ops.config import Config
from ops.stores import run_use_case, with_store

EXIT_REFUSED = 1
EXIT_USAGE = 2
DEFAULT_GRACE_S = 86_400
HMAC_SECRET_BYTES = 32


class Refused(Exception):
    """A command cannot be carried out; the message says what to do."""


class KeyOutUnwritable(Exception):
    """``--key-out`` cannot be written: an operator's error (exit 2), nothing recorded."""

    def __init__(self, path: Path, why: str) -> None:
        super().__init__(f"cannot write {path}: {why}; give --key-out a new file in a folder you can write")


@dataclass(frozen=True, slots=True)
class NewKey:
    algorithm: KeyAlgorithm
    material: str  # what the store keeps
    secret: str | None  # shown once (HMAC only)


def make_key(algorithm: KeyAlgorithm, key_out: Path | None, sealer: SecretSealer) -> NewKey:
    """Make a key; write its private part to ``key_out`` (exclusive create, mode 0600)."""
    if algorithm is KeyAlgorithm.ED25519:
        if key_out is None:
            raise Refused("an ed25519 client needs --key-out FILE for its private key")
        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        _write_private(key_out, pem)
        raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return NewKey(algorithm, base64.b64encode(raw).decode(), None)
    secret = secrets.token_bytes(HMAC_SECRET_BYTES)
    shown = base64.b64encode(secret).decode()
    if key_out is not None:
        _write_private(key_out, shown.encode() + b"\n")
    return NewKey(algorithm, sealer.seal(secret), shown)


def _write_private(path: Path, content: bytes) -> None:
    problem = file_problem(path)
    if problem is not None:
        raise KeyOutUnwritable(path, problem)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyOutUnwritable(path, "it already exists (keys are never overwritten)") from None
    except OSError as exc:
        raise KeyOutUnwritable(path, exc.strerror or str(exc)) from None
    with os.fdopen(fd, "wb") as out:
        out.write(content)


def _printed(result: dict[str, Any], key: NewKey) -> dict[str, Any]:
    shown = {"client_id": result["client_id"], "key_id": result["key_id"], "role": result["role"]}
    shown["algorithm"] = key.algorithm.value
    if key.secret is not None:
        shown["secret"] = key.secret
    return shown


def _with_key(args: argparse.Namespace, make_use_case: Any) -> dict[str, Any]:
    """Make the key, record it; a refused registration leaves no key file behind."""
    config = Config.from_env().with_overrides(store_url=args.store)
    key = make_key(KeyAlgorithm(args.algorithm), args.key_out, SecretSealer(config.codec.cipher_key))
    try:
        result = asyncio.run(run_use_case(config, make_use_case(key)))
    except BaseException:
        if args.key_out is not None:
            with contextlib.suppress(FileNotFoundError):
                args.key_out.unlink()
        raise
    return _printed(result, key)


def _add(args: argparse.Namespace) -> dict[str, Any]:
    client_id = f"cl_{secrets.token_hex(8)}"

    def use_case(key: NewKey) -> UseCase:
        return register_client(
            client_id=client_id,
            name=args.name,
            role=Role(args.role),
            scope=tuple(args.scope),
            algorithm=key.algorithm,
            material=key.material,
            at=datetime.now(UTC),
        )

    return _with_key(args, use_case)


def _rotate(args: argparse.Namespace) -> dict[str, Any]:
    now = datetime.now(UTC)

    def use_case(key: NewKey) -> UseCase:
        return rotate_client_key(
            args.client,
            algorithm=key.algorithm,
            material=key.material,
            old_valid_until=now + timedelta(seconds=args.grace_s),
            at=now,
        )

    return _with_key(args, use_case)


def _revoke(args: argparse.Namespace) -> dict[str, Any]:
    config = Config.from_env().with_overrides(store_url=args.store)
    return asyncio.run(run_use_case(config, revoke_client(args.client, args.reason, datetime.now(UTC))))


def _command(args: argparse.Namespace) -> int:
    try:
        if args.clients_command == "list":
            out: Any = asyncio.run(with_store(Config.from_env().with_overrides(store_url=args.store), list_clients))
        else:
            out = {"add": _add, "rotate": _rotate, "revoke": _revoke}[args.clients_command](args)
    except (Refused, DomainError) as exc:
        print(f"citysettle clients {args.clients_command}: refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyOutUnwritable as exc:
        print(f"citysettle clients {args.clients_command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps(out))
    return 0


def register(commands: Any) -> None:
    group = commands.add_parser("clients", help="API clients and their signing keys")
    sub = group.add_subparsers(dest="clients_command", required=True)
    add = sub.add_parser("add", help="register a client with its first key")
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--scope", action="append", default=[], metavar="ID", help="device id or place id (repeatable)")
    rotate = sub.add_parser("rotate", help="give a client a new key; the old one stays valid for --grace-s")
    rotate.add_argument("--client", required=True)
    rotate.add_argument("--grace-s", type=int, default=DEFAULT_GRACE_S, help="old key's remaining validity")
    for cmd in (add, rotate):
        cmd.add_argument("--algorithm", default=KeyAlgorithm.ED25519.value, choices=[a.value for a in KeyAlgorithm])
        cmd.add_argument("--key-out", type=Path, help="where to write the private key or secret (mode 0600)")
    revoke = sub.add_parser("revoke", help="revoke a client: none of its keys verifies any more")
    revoke.add_argument("--client", required=True)
    revoke.add_argument("--reason", required=True)
    listing = sub.add_parser("list", help="every client, with its keys (never their material)")
    for cmd in (add, rotate, revoke, listing):
        cmd.add_argument("--store", help="event store URL (default: $CITYSETTLE_STORE or embedded SQLite)")
        cmd.set_defaults(handler=_command)
