"""RFC 9421 HTTP Message Signatures and RFC 9530 Content-Digest, verified for a request.

The cryptography and the signature base are the `http-message-signatures` library's; this
module adds the service's policy on top, each rule with the name of the check that a
refusal reports (``SignatureRejected.check``):

- ``signature-missing``: no ``Signature-Input``/``Signature`` fields;
- ``signature-input``: malformed, or more than one signature;
- ``keyid``, ``created``, ``expires``: required ``keyid`` and ``created``, the latter
  within ±300 s of the server's clock; an ``expires`` in the past;
- ``covered-components``: ``@method`` and ``@path`` always, ``@query`` when the target
  has a query, ``idempotency-key`` when the request carries one (else a captured request
  could be replayed under a fresh key within the clock window, and applied again),
  ``content-digest`` when there is a body;
- ``content-digest``: the field is missing, malformed, or does not match the body
  (sha-256 or sha-512, compared in constant time);
- ``key-revoked``/``key-expired``/``keyid``: from the key lookup;
- ``alg``: the signature names another algorithm than the key's;
- ``signature``: the signature does not verify. Everything the client covered beyond
  the required components (``@authority``, other fields) is part of the base, so it
  is verified too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from http_message_signatures import (
    ContentDigest,
    HTTPMessageSignaturesException,
    HTTPMessageVerifier,
    HTTPSignatureAlgorithm,
    HTTPSignatureKeyResolver,
    algorithms,
)
from http_sf.compat import Dictionary, InnerList

from domain.model.clients import KeyAlgorithm

CLOCK_SKEW_S = 300
IDEMPOTENCY_FIELD = "idempotency-key"  # covered by the signature whenever it is sent
ALGORITHMS: dict[KeyAlgorithm, type[HTTPSignatureAlgorithm]] = {
    KeyAlgorithm.ED25519: algorithms.ED25519,
    KeyAlgorithm.HMAC_SHA256: algorithms.HMAC_SHA256,
}


class SignatureRejected(Exception):
    """The request's signature failed ``check`` (see the module docstring)."""

    def __init__(self, check: str, detail: str) -> None:
        super().__init__(detail)
        self.check = check
        self.detail = detail


@dataclass(frozen=True, slots=True)
class VerificationKey:
    """What verifies one key id's signatures: a public key, or an HMAC secret."""

    key_id: str
    algorithm: KeyAlgorithm
    key: Ed25519PublicKey | bytes


KeyLookup = Callable[[str, datetime], Awaitable[VerificationKey]]
"""Finds the key for a key id at a time, or raises `SignatureRejected`."""


class Headers:
    """The field lines of a request, in order, as the library's resolver reads them."""

    def __init__(self, lines: Iterable[tuple[str, str]]) -> None:
        self._lines = list(lines)

    def items(self) -> list[tuple[str, str]]:
        return self._lines

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(name for name, _ in self._lines))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(n.lower() == name.lower() for n, _ in self._lines)

    def get(self, name: str) -> str | None:
        values = [v.strip() for n, v in self._lines if n.lower() == name.lower()]
        return ", ".join(values) if values else None


@dataclass(frozen=True, slots=True)
class SignedMessage:
    """A received request as signed: method, absolute URL as sent, field lines."""

    method: str
    url: str
    headers: Headers

    @property
    def has_query(self) -> bool:
        _, question, query = self.url.partition("?")
        return bool(question and query)


@dataclass(frozen=True, slots=True)
class Verified:
    key_id: str
    created: datetime
    covered: tuple[str, ...]


class _Verifier(HTTPMessageVerifier):
    """The library's verifier, handed the Signature-Input this module already parsed (with
    the library's own parser) so that it is not parsed a second time."""

    # the same window as our own check of ``created``, which runs first
    max_clock_skew = timedelta(seconds=CLOCK_SKEW_S)

    def __init__(self, signature_input: Dictionary, **options: Any) -> None:
        super().__init__(**options)
        self._signature_input = signature_input

    def _parse_dict_header(self, header_name: str, headers: Any) -> Dictionary:
        if header_name == "Signature-Input":
            return self._signature_input
        parse: Any = super()._parse_dict_header  # the library's, untyped
        parsed: Dictionary = parse(header_name, headers)
        return parsed


class _OneKey(HTTPSignatureKeyResolver):
    """The client's verification key only: asked for a signing key, the library's base
    class refuses (the server never signs with a client's key)."""

    def __init__(self, key: VerificationKey) -> None:
        self._key = key

    def resolve_public_key(self, key_id: str) -> Ed25519PublicKey | bytes | None:
        return self._key.key if key_id == self._key.key_id else None


def required_components(message: SignedMessage, body: bytes) -> list[str]:
    required = ["@method", "@path"]
    if message.has_query:
        required.append("@query")
    if IDEMPOTENCY_FIELD in message.headers:
        required.append(IDEMPOTENCY_FIELD)
    if body:
        required.append("content-digest")
    return required


async def verify_request(message: SignedMessage, body: bytes, lookup: KeyLookup, now: datetime) -> Verified:
    signature_input, label_params, covered = _signature_input(message)
    key_id = label_params.get("keyid")
    if not isinstance(key_id, str) or not key_id:
        raise SignatureRejected("keyid", "the signature has no keyid parameter")
    created = _created(label_params, now)
    required = required_components(message, body)
    missing = [c for c in required if c not in covered]
    if missing:
        raise SignatureRejected("covered-components", f"the signature must cover {', '.join(missing)}")
    if body:
        _check_digest(message, body)
    key = await lookup(key_id, now)
    alg = label_params.get("alg")
    if alg is not None and alg != key.algorithm.value:
        raise SignatureRejected("alg", f"key {key_id} signs with {key.algorithm.value}, not {alg}")
    verifier = _Verifier(signature_input, signature_algorithm=ALGORITHMS[key.algorithm], key_resolver=_OneKey(key))
    try:
        # Coverage and the digest were checked above against the same parsed input, and the
        # digest field is part of the signed base: asking the library to check them again
        # would parse every component identifier once more (a third of its cost).
        verifier.verify(message, max_age=None)
    except HTTPMessageSignaturesException as exc:
        raise SignatureRejected("signature", f"the signature does not verify: {exc}") from exc
    return Verified(key_id, created, covered)


def _signature_input(message: SignedMessage) -> tuple[Dictionary, dict[str, Any], tuple[str, ...]]:
    """Signature-Input parsed once, by the library's parser (which the library's verifier
    is then handed): the parsed field, the signature's parameters, its covered components."""
    raw_input = message.headers.get("signature-input")
    if raw_input is None or message.headers.get("signature") is None:
        raise SignatureRejected("signature-missing", "the request carries no Signature-Input and Signature fields")
    if not raw_input.isascii():
        raise SignatureRejected("signature-input", "Signature-Input is not a structured dictionary")
    try:
        parsed = HTTPMessageVerifier._parse_signature_dictionary(raw_input)
    except HTTPMessageSignaturesException as exc:  # a label given twice
        raise SignatureRejected("signature-input", "exactly one signature is expected") from exc
    except ValueError as exc:
        raise SignatureRejected("signature-input", "Signature-Input is not a structured dictionary") from exc
    if len(parsed) != 1:
        raise SignatureRejected("signature-input", "exactly one signature is expected")
    (members,) = parsed.values()
    if not isinstance(members, InnerList):
        raise SignatureRejected("signature-input", "the signature's components must be an inner list")
    covered = tuple(str(item.value) for item in members if not item.params)
    return parsed, dict(members.params), covered


def _created(params: dict[str, Any], now: datetime) -> datetime:
    created = params.get("created")
    if type(created) is not int:
        raise SignatureRejected("created", "the signature has no integer created parameter")
    at = datetime.fromtimestamp(created, UTC)
    skew_s = (now - at).total_seconds()
    if abs(skew_s) > CLOCK_SKEW_S:
        when = "old" if skew_s > 0 else "in the future"
        raise SignatureRejected("created", f"the signature was created {abs(skew_s):.0f} s {when}; ±{CLOCK_SKEW_S} s")
    expires = params.get("expires")
    if expires is not None and (type(expires) is not int or datetime.fromtimestamp(expires, UTC) < now):
        raise SignatureRejected("expires", "the signature has expired")
    return at


def _check_digest(message: SignedMessage, body: bytes) -> None:
    header = message.headers.get("content-digest")
    if header is None:
        raise SignatureRejected("content-digest", "a request with a body needs a Content-Digest field")
    try:
        ContentDigest.verify(header, body)
    except HTTPMessageSignaturesException as exc:
        raise SignatureRejected("content-digest", f"Content-Digest: {exc}") from exc
