"""The service's ticket signing key, from its configuration.

- ``CITYSETTLE_TICKET_KEY_FILE``: the Ed25519 private key (PEM, PKCS#8) ticket codes are
  signed with, published as key id ``CITYSETTLE_TICKET_KEY_ID`` (default 1). Production
  mounts this file; every worker reads the same one.
- Unset, on a SQLite store: a development key beside the database
  (``<database>.ticket-ed25519.pem``, created with mode 0600 on first start, then reused,
  so that ``make run`` and every worker of one store sign alike). It is logged as such.
- Unset, on PostgreSQL: no key; the ticket calls that need one answer ``503``.
- ``CITYSETTLE_TICKET_KEYRING``: public keys rotated out but still published (a JWKS as
  ``GET /v1/tickets/keys`` serves it), so the codes they signed keep validating until
  those tickets have ended. To rotate: save ``GET /v1/tickets/keys`` to that file, point
  the key file at a new key with a new key id, restart.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.eventstore.sqlite import sqlite_path
from adapters.http.ticket_codes import TicketCodes
from ops.config import Config, ConfigError
from qr.errors import QRError
from qr.ticket_keys import TicketKeyRing, TicketSigner

log = logging.getLogger(__name__)
DEVELOPMENT_KEY_SUFFIX = ".ticket-ed25519.pem"


def development_key_path(store_url: str) -> Path | None:
    """Where a SQLite store keeps its generated development key; ``None`` for other stores."""
    if not store_url.startswith("sqlite://"):
        return None
    return Path(sqlite_path(store_url) + DEVELOPMENT_KEY_SUFFIX)


def _create_key(path: Path) -> None:
    """Write a new key at ``path`` unless one is there (atomically: a concurrent start
    that loses the race reads the winner's key, never a half-written file)."""
    if path.exists():
        return
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".ticket-key-")
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, pem)
        os.fsync(fd)
        os.close(fd)
        with contextlib.suppress(FileExistsError):  # another process made it first: theirs it is
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


def _private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot load the ticket signing key {path}: {exc}; check CITYSETTLE_TICKET_KEY_FILE"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path} is not an Ed25519 private key; CITYSETTLE_TICKET_KEY_FILE needs one")
    return key


def _retired(path: Path | None) -> TicketKeyRing | None:
    if path is None:
        return None
    try:
        return TicketKeyRing.from_jwks(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, QRError) as exc:
        raise ConfigError(f"cannot read the ticket key ring {path}: {exc}; check CITYSETTLE_TICKET_KEYRING") from None


def with_ticket_key(config: Config) -> Config:
    """``config`` naming the key file it signs with: a SQLite store's development key is
    made (once) and said here, so that what is given this config (the workers of
    ``serve``) uses that file as configured, without looking for it or announcing it again."""
    if config.ticket_key_file is not None:
        return config
    path = development_key_path(config.store_url)
    if path is None:
        return config
    _create_key(path)
    log.warning("CITYSETTLE_TICKET_KEY_FILE not set: ticket codes are signed with the development key %s", path)
    return config.with_overrides(ticket_key_file=path)


def ticket_codes(config: Config) -> TicketCodes:
    """The signer and published keys the configuration names (see module docstring)."""
    retired = _retired(config.ticket_keyring_file)
    path = with_ticket_key(config).ticket_key_file
    if path is None:
        log.warning("CITYSETTLE_TICKET_KEY_FILE not set: tickets cannot be sold, shown or validated (503)")
        return TicketCodes.of(None, retired)
    try:
        signer = TicketSigner(config.ticket_key_id, _private_key(path))
    except QRError as exc:
        raise ConfigError(f"CITYSETTLE_TICKET_KEY_ID: {exc}") from None
    if retired is not None and signer.key_id in retired:
        raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
        if retired[signer.key_id].public_bytes(*raw) != signer.public_key.public_bytes(*raw):
            raise ConfigError(
                f"key id {signer.key_id} is in CITYSETTLE_TICKET_KEYRING with another key: give the new key a new id"
            )
    return TicketCodes.of(signer, retired)
