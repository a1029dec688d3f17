from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.eventstore.checkpoints import CheckpointKeyError, CheckpointSigner, KeyRing, key_id_of, write_new_key
from domain.ports import ChainHead

HEAD = ChainHead(42, bytes(range(32)))


def signer() -> CheckpointSigner:
    key = Ed25519PrivateKey.generate()
    return CheckpointSigner(key_id_of(key.public_key()), key)


def ring_of(*signers: CheckpointSigner) -> KeyRing:
    return KeyRing({s.key_id: s.private_key.public_key() for s in signers})


def test_signed_checkpoint_verifies() -> None:
    s = signer()
    checkpoint = s.sign(HEAD, 1_700_000_000_000_000)
    assert checkpoint.position == 42
    assert ring_of(s).problem_with(checkpoint) is None


@pytest.mark.parametrize(
    "change",
    [
        {"position": 43},
        {"hash": bytes(32)},
        {"signed_at_us": 1},
        {"signature": bytes(64)},
    ],
)
def test_any_altered_field_fails(change: dict[str, object]) -> None:
    s = signer()
    altered = dataclasses.replace(s.sign(HEAD, 5), **change)  # type: ignore[arg-type]
    assert ring_of(s).problem_with(altered) == "signature does not verify"


def test_unknown_key_is_named() -> None:
    checkpoint = signer().sign(HEAD, 5)
    assert ring_of(signer()).problem_with(checkpoint) == f"signed with unknown key {checkpoint.key_id}"


def test_relabelled_key_id_fails() -> None:
    a, b = signer(), signer()
    forged = dataclasses.replace(a.sign(HEAD, 5), key_id=b.key_id)
    assert ring_of(a, b).problem_with(forged) == "signature does not verify"


def test_rotation_keeps_old_checkpoints_verifiable(tmp_path: Path) -> None:
    ring_path = tmp_path / "ring.json"
    old_id = write_new_key(tmp_path / "old.pem", ring_path)
    new_id = write_new_key(tmp_path / "new.pem", ring_path)
    assert old_id != new_id
    old = CheckpointSigner.from_pem_file(tmp_path / "old.pem").sign(HEAD, 1)
    new = CheckpointSigner.from_pem_file(tmp_path / "new.pem").sign(HEAD, 2)
    ring = KeyRing.from_json_file(ring_path)
    assert ring.problem_with(old) is None
    assert ring.problem_with(new) is None
    assert (tmp_path / "new.pem").stat().st_mode & 0o777 == 0o600


def test_unusable_key_files_are_reported(tmp_path: Path) -> None:
    (tmp_path / "bad.pem").write_text("not a key")
    with pytest.raises(CheckpointKeyError, match=r"bad\.pem"):
        CheckpointSigner.from_pem_file(tmp_path / "bad.pem")
    (tmp_path / "ring.json").write_text('{"k": "!!"}')
    with pytest.raises(CheckpointKeyError, match=r"ring\.json"):
        KeyRing.from_json_file(tmp_path / "ring.json")
