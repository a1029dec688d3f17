"""Ed25519-signed checkpoints of the hash chain's head.

The signed message is a fixed layout with a domain-separation prefix, so a signature
made for anything else never verifies as a checkpoint. Keys are identified by a key
id; the verifier's key ring may hold old keys, so rotating the signing key keeps old
checkpoints verifiable.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from domain.ports import ChainHead, Checkpoint

_PREFIX = b"citysettle/checkpoint/v1\x00"
_LAYOUT = struct.Struct(">Q32sQ")


class CheckpointKeyError(ValueError):
    """A key file or key ring is unusable; the message says which and why."""


def checkpoint_message(position: int, chain_hash: bytes, key_id: str, signed_at_us: int) -> bytes:
    key_id_bytes = key_id.encode("utf-8")
    return _PREFIX + _LAYOUT.pack(position, chain_hash, signed_at_us) + key_id_bytes


def key_id_of(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class CheckpointSigner:
    key_id: str
    private_key: Ed25519PrivateKey

    @classmethod
    def from_pem_file(cls, path: Path) -> CheckpointSigner:
        try:
            pem = path.read_bytes()
        except OSError as exc:
            raise CheckpointKeyError(f"the checkpoint signing key {path} cannot be read: {exc.strerror}") from None
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError):  # TypeError: a key that needs a password
            raise CheckpointKeyError(f"the checkpoint signing key {path} is not a PEM private key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise CheckpointKeyError(f"the checkpoint signing key {path} is not an Ed25519 private key")
        return cls(key_id_of(key.public_key()), key)

    def sign(self, head: ChainHead, signed_at_us: int) -> Checkpoint:
        message = checkpoint_message(head.position, head.hash, self.key_id, signed_at_us)
        return Checkpoint(head.position, head.hash, self.key_id, signed_at_us, self.private_key.sign(message))


class _RingEntryError(ValueError):
    pass


def _ring_entries(entries: object) -> dict[str, Ed25519PublicKey]:
    if not isinstance(entries, dict):
        raise _RingEntryError("is not a JSON object")
    keys = {}
    for kid, b64 in entries.items():
        try:
            raw = base64.b64decode(b64, validate=True) if isinstance(b64, str) else None
        except binascii.Error:
            raw = None
        if raw is None:
            raise _RingEntryError(f"key {kid} is not base64 text")
        try:
            keys[kid] = Ed25519PublicKey.from_public_bytes(raw)
        except ValueError:
            raise _RingEntryError(f"key {kid} is not a 32-byte Ed25519 public key") from None
    return keys


class KeyRing:
    """Trusted public keys by key id (current and retired signing keys)."""

    def __init__(self, keys: Mapping[str, Ed25519PublicKey]) -> None:
        self._keys = dict(keys)

    @classmethod
    def from_json_file(cls, path: Path) -> KeyRing:
        """``{"key id": "base64 of the 32-byte raw public key", ...}``; a file that is not
        one raises `CheckpointKeyError` saying what is wrong and what is expected."""
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
            raise CheckpointKeyError(f"the checkpoint key ring {path} cannot be read: {why}") from None
        try:
            return cls(_ring_entries(json.loads(text)))
        except json.JSONDecodeError as exc:
            problem = f"is not JSON (line {exc.lineno}, column {exc.colno})"
        except _RingEntryError as exc:
            problem = str(exc)
        raise CheckpointKeyError(
            f"the checkpoint key ring {path} {problem}; expected {{key id: base64 public key}} "
            "as `citysettle audit keygen` writes it"
        )

    def with_key(self, key_id: str, key: Ed25519PublicKey) -> KeyRing:
        return KeyRing({**self._keys, key_id: key})

    def raw_keys(self) -> dict[str, bytes]:
        """Each key id with its 32-byte raw public key."""
        return {
            kid: k.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            for kid, k in self._keys.items()
        }

    def to_json(self) -> str:
        raw = {kid: base64.b64encode(k).decode() for kid, k in self.raw_keys().items()}
        return json.dumps(raw, indent=2, sort_keys=True)

    def knows(self, key_id: str) -> bool:
        return key_id in self._keys

    def problem_with(self, checkpoint: Checkpoint) -> str | None:
        """Why the checkpoint's signature is not acceptable, or None when it is."""
        key = self._keys.get(checkpoint.key_id)
        if key is None:
            return f"signed with unknown key {checkpoint.key_id}"
        message = checkpoint_message(checkpoint.position, checkpoint.hash, checkpoint.key_id, checkpoint.signed_at_us)
        try:
            key.verify(checkpoint.signature, message)
        except InvalidSignature:
            return "signature does not verify"
        return None


def write_new_key(private_path: Path, ring_path: Path) -> str:
    """Create a signing key (mode 0600) and add its public half to a key ring file."""
    # the ring first: a key whose public half reaches no ring would sign checkpoints nobody can verify
    ring = KeyRing.from_json_file(ring_path) if ring_path.exists() else KeyRing({})
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    private_path.parent.mkdir(parents=True, exist_ok=True)
    private_path.touch(mode=0o600, exist_ok=False)
    private_path.write_bytes(pem)
    kid = key_id_of(key.public_key())
    ring_path.write_text(ring.with_key(kid, key.public_key()).to_json() + "\n")
    return kid
