"""Signature policy at its exact boundaries, with the server's clock given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.http.signatures import Headers, SignatureRejected, SignedMessage, VerificationKey, verify_request
from adapters.http.signing import RequestSigner
from domain.model.clients import KeyAlgorithm

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
URL = "https://api.example/v1/payees/p1?x=1"
SECRET = b"s" * 32
SIGNER = RequestSigner("cl_1.k1", SECRET, KeyAlgorithm.HMAC_SHA256)


async def lookup(key_id: str, at: datetime) -> VerificationKey:
    if key_id != "cl_1.k1":
        raise SignatureRejected("keyid", "unknown")
    return VerificationKey(key_id, KeyAlgorithm.HMAC_SHA256, SECRET)


async def verify(created: datetime, body: bytes = b"{}", components: tuple[str, ...] | None = None) -> None:
    headers = SIGNER.sign("POST", URL, body, {}, created=created, components=components)
    message = SignedMessage("POST", URL, Headers(headers.items()))
    await verify_request(message, body, lookup, NOW)


@pytest.mark.parametrize("offset_s", [-300, 0, 300])
async def test_created_within_300_s_either_way_is_accepted(offset_s: int) -> None:
    await verify(NOW + timedelta(seconds=offset_s))


@pytest.mark.parametrize("offset_s", [-301, 301])
async def test_created_beyond_300_s_is_refused(offset_s: int) -> None:
    with pytest.raises(SignatureRejected) as refused:
        await verify(NOW + timedelta(seconds=offset_s))
    assert refused.value.check == "created"


async def test_the_query_and_the_digest_must_be_covered() -> None:
    with pytest.raises(SignatureRejected) as refused:
        await verify(NOW, components=("@method", "@path", "content-digest"))
    assert refused.value.check == "covered-components"
    assert "@query" in refused.value.detail


async def test_a_signature_over_an_empty_body_needs_no_digest() -> None:
    await verify(NOW, body=b"", components=("@method", "@path", "@query"))


async def test_an_idempotency_key_sent_must_be_covered() -> None:
    """Else a captured request, sent again under a fresh key within the clock window, is a
    new request and applied again (the forgery suite bought a second ticket so)."""
    body = b"{}"
    headers = {"Idempotency-Key": "order-1"}
    uncovered = SIGNER.sign("POST", URL, body, headers, created=NOW, components=("@method", "@path", "@query"))
    with pytest.raises(SignatureRejected) as refused:
        await verify_request(SignedMessage("POST", URL, Headers(uncovered.items())), body, lookup, NOW)
    assert (refused.value.check, "idempotency-key" in refused.value.detail) == ("covered-components", True)
    covered = SIGNER.sign("POST", URL, body, headers, created=NOW)  # the signer covers it by itself
    await verify_request(SignedMessage("POST", URL, Headers(covered.items())), body, lookup, NOW)
    rekeyed = {**covered, "Idempotency-Key": "order-2"}
    with pytest.raises(SignatureRejected) as refused:
        await verify_request(SignedMessage("POST", URL, Headers(rekeyed.items())), body, lookup, NOW)
    assert refused.value.check == "signature"


def signed_headers(body: bytes = b"{}") -> dict[str, str]:
    return SIGNER.sign("POST", URL, body, {}, created=NOW)


async def verify_headers(headers: dict[str, str], body: bytes = b"{}") -> None:
    await verify_request(SignedMessage("POST", URL, Headers(headers.items())), body, lookup, NOW)


async def test_signature_input_parsed_once_still_binds_the_signature() -> None:
    """Signature-Input is parsed once and the library verifies with that parse: a changed
    parameter (a later ``created``, still in the window) no longer matches the signature."""
    headers = signed_headers()
    created = str(int(NOW.timestamp()))
    headers["Signature-Input"] = headers["Signature-Input"].replace(created, str(int(NOW.timestamp()) + 10))
    with pytest.raises(SignatureRejected) as refused:
        await verify_headers(headers)
    assert refused.value.check == "signature"


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        (lambda v: "not a dictionary ((", "not a structured dictionary"),
        (lambda v: v.replace("@method", "@méthod"), "not a structured dictionary"),  # not ASCII
        (lambda v: f"{v}, {v}", "exactly one signature"),  # a label twice
        (lambda v: f"{v}, other={v.partition('=')[2]}", "exactly one signature"),  # two signatures
        (lambda v: v.partition("=")[0] + "=?1;created=1", "inner list"),  # an item, not an inner list
    ],
)
async def test_a_malformed_signature_input_is_refused_naming_it(change: Any, detail: str) -> None:
    headers = signed_headers()
    headers["Signature-Input"] = change(headers["Signature-Input"])
    with pytest.raises(SignatureRejected) as refused:
        await verify_headers(headers)
    assert refused.value.check == "signature-input"
    assert detail in refused.value.detail
