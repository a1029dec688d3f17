"""Signing requests as a client does (for ``citysettle call``, tests and benchmarks),
with the same `http-message-signatures` library the server verifies with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from http_message_signatures import HTTPMessageSigner, HTTPSignatureKeyResolver

from adapters.http.signatures import ALGORITHMS, IDEMPOTENCY_FIELD
from domain.model.clients import KeyAlgorithm

SIGNATURE_LABEL = "sig1"


@dataclass
class _Outgoing:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)


class _SigningKey(HTTPSignatureKeyResolver):
    """The signing key only: asked for a verification key, the library's base class refuses."""

    def __init__(self, key_id: str, key: Ed25519PrivateKey | bytes) -> None:
        self._key_id = key_id
        self._key = key

    def resolve_private_key(self, key_id: str) -> Ed25519PrivateKey | bytes:
        assert key_id == self._key_id, "signing with the key it was made for"
        return self._key


@dataclass(frozen=True, slots=True)
class RequestSigner:
    """Signs for one key: covers @method, @path, @query (when there is one), @authority,
    the Idempotency-Key (when there is one) and, with a body, the Content-Digest it adds."""

    key_id: str
    key: Ed25519PrivateKey | bytes
    algorithm: KeyAlgorithm = KeyAlgorithm.ED25519

    def sign(
        self,
        method: str,
        url: str,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        *,
        created: datetime | None = None,
        components: tuple[str, ...] | None = None,
    ) -> dict[str, str]:
        """The headers to send: ``headers`` plus Content-Digest (with a body) and the signature."""
        message = _Outgoing(method.upper(), url, dict(headers or {}))
        if components is None:
            components = ("@method", "@authority", "@path")
            if "?" in url and url.split("?", 1)[1]:
                components += ("@query",)
            if any(name.lower() == IDEMPOTENCY_FIELD for name in message.headers):
                components += (IDEMPOTENCY_FIELD,)  # a captured request cannot be replayed under another key
        signer = HTTPMessageSigner(
            signature_algorithm=ALGORITHMS[self.algorithm], key_resolver=_SigningKey(self.key_id, self.key)
        )
        signer.sign(
            message,
            key_id=self.key_id,
            created=created or datetime.now(UTC),
            label=SIGNATURE_LABEL,
            covered_component_ids=components,
            body=body or None,
        )
        return message.headers
