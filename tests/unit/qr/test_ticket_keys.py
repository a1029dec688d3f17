from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from qr.ticket_keys import MAX_KEYS, KeySetError, TicketKeyRing, TicketSigner
from qr.tickets import Ticket


def _public(seed: int) -> str:
    raw = Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32).public_key().public_bytes_raw()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _jwk(kid: object = "1", **changes: object) -> dict[str, object]:
    return {"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": _public(1)} | changes


def test_jwks_round_trip_verifies_the_same_codes() -> None:
    signer = TicketSigner(9, Ed25519PrivateKey.from_private_bytes(bytes([9]) * 32))
    ring = TicketKeyRing({9: signer.public_key, 4: signer.public_key})
    document = json.loads(json.dumps(ring.to_jwks()))
    assert [entry["kid"] for entry in document["keys"]] == ["4", "9"]
    assert document["keys"][0] == {
        "kty": "OKP",
        "crv": "Ed25519",
        "alg": "EdDSA",
        "use": "sig",
        "kid": "4",
        "x": _public(9),
    }
    start = datetime(2026, 5, 1, tzinfo=UTC)
    ticket = Ticket(UUID(int=1), "PARK-1H", start, start + timedelta(hours=1))
    reloaded = TicketKeyRing.from_jwks(document)
    assert sorted(reloaded) == [4, 9]
    assert reloaded.verify(signer.sign(ticket), start).ticket == ticket


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "'keys' list"),
        ({"keys": {}}, "'keys' list"),
        ({"keys": ["x"]}, r"keys\[0\]: expected an object"),
        ({"keys": [_jwk(kty="EC")]}, "OKP"),
        ({"keys": [_jwk(crv="X25519")]}, "OKP"),
        ({"keys": [_jwk(kid="01")]}, "decimal key id"),
        ({"keys": [_jwk(kid="-1")]}, "decimal key id"),
        ({"keys": [_jwk(kid=1)]}, "decimal key id"),
        ({"keys": [_jwk(kid="65536")]}, "0..65535"),
        ({"keys": [_jwk(x=5)]}, "base64url"),
        ({"keys": [_jwk(x=_public(1) + "=")]}, "unpadded"),
        ({"keys": [_jwk(x="A")]}, "unpadded"),
        ({"keys": [_jwk(x="!!!!")]}, "not unpadded base64url"),
        ({"keys": [_jwk(x="AAAA")]}, "32 bytes"),
        ({"keys": [_jwk(), _jwk()]}, r"keys\[1\]: kid 1 appears more than once"),
        ({"keys": [_jwk(str(kid)) for kid in range(MAX_KEYS + 1)]}, "at most"),
    ],
)
def test_invalid_key_sets_are_rejected(document: object, message: str) -> None:
    with pytest.raises(KeySetError, match=message):
        TicketKeyRing.from_jwks(document)


@pytest.mark.parametrize("key_id", [-1, 65536])
def test_key_ids_must_fit_the_code(key_id: int) -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes(32))
    with pytest.raises(KeySetError):
        TicketSigner(key_id, key)
    with pytest.raises(KeySetError):
        TicketKeyRing({key_id: key.public_key()})


def test_ring_is_a_read_only_mapping() -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes(32)).public_key()
    source = {3: key}
    ring = TicketKeyRing(source)
    source[4] = key
    assert len(ring) == 1
    assert ring[3] is key
    assert ring.get(4) is None
