"""Signed e-ticket codes: a compact binary ticket, Ed25519-signed, base45 text for a QR.

Code text: ``CST1:`` followed by base45 (``qr.base45``) of these bytes, big-endian::

    offset  size  field
    0       1     format version, 1
    1       2     issuer key id (0..65535)
    3       16    ticket id (UUID)
    19      4     valid_from, Unix seconds (UTC)
    23      4     valid_until, Unix seconds, exclusive
    27      1     product length P (1..16), then P bytes of product code
    28+P    1     holder length H (0..32), then H bytes of holder reference
    29+P+H  64    Ed25519 signature over SIGNING_CONTEXT + bytes[0 : 29+P+H]

The prefix and base45 use only QR alphanumeric characters, so the symbol stays small.
The signature covers the exact bytes received (never a re-serialisation), prefixed by a
context string so that a signature made by the same key for something else -- e.g. an
event-store checkpoint -- can never pass as a ticket. Verification is offline: it needs
only the published public keys, looked up by the key id in the code, which is how keys
rotate (old keys stay published until the last ticket they signed has expired).

Checks run in this order and stop at the first failure, each with its own reason:
malformed, unknown key, bad signature, not yet valid, expired.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from qr.base45 import Base45Error, b45decode, b45encode
from qr.errors import QRError

TICKET_PREFIX = "CST1:"
FORMAT_VERSION = 1
SIGNING_CONTEXT = b"citysettle/e-ticket/v1\x00"
SIGNATURE_BYTES = 64
KEY_ID_MAX = 0xFFFF
PRODUCT_MAX_CHARS = 16
HOLDER_MAX_CHARS = 32
MAX_LEEWAY_S = 600  # validators' clocks drift, but a bigger allowance would extend tickets
_TIMESTAMP_MAX = 0xFFFFFFFF
_HEADER = struct.Struct(">BH16sII")
_MAX_BYTES = _HEADER.size + 2 + PRODUCT_MAX_CHARS + HOLDER_MAX_CHARS + SIGNATURE_BYTES
# Longest well-formed code; anything longer is refused before any decoding work.
MAX_CODE_CHARS = len(TICKET_PREFIX) + _MAX_BYTES // 2 * 3 + _MAX_BYTES % 2 * 2
_PRODUCT = re.compile(r"[A-Za-z0-9._-]{1,16}")


class InvalidTicket(QRError):
    """A ticket to be issued breaks a field rule; ``field`` names it."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field


class RejectionReason(StrEnum):
    MALFORMED = "malformed"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"


class TicketRejected(QRError):
    """A presented code is not a valid ticket now; ``reason`` says why."""

    def __init__(self, reason: RejectionReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Ticket:
    """What a ticket grants. Times are UTC, whole seconds; valid_from < valid_until."""

    ticket_id: UUID
    product: str
    valid_from: datetime
    valid_until: datetime
    holder_ref: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.ticket_id, UUID):
            raise InvalidTicket("ticket_id", f"must be a UUID, got {self.ticket_id!r}")
        if not isinstance(self.product, str) or not _PRODUCT.fullmatch(self.product):
            raise InvalidTicket("product", f"must match {_PRODUCT.pattern}, got {self.product!r}")
        holder = self.holder_ref
        if not isinstance(holder, str) or len(holder) > HOLDER_MAX_CHARS:
            raise InvalidTicket("holder_ref", f"must be at most {HOLDER_MAX_CHARS} characters")
        if not holder.isascii() or not holder.isprintable():
            raise InvalidTicket("holder_ref", f"must be printable ASCII, got {holder!r}")
        _check_instant("valid_from", self.valid_from)
        _check_instant("valid_until", self.valid_until)
        if self.valid_from >= self.valid_until:
            raise InvalidTicket("valid_until", "must be later than valid_from")


@dataclass(frozen=True, slots=True)
class VerifiedTicket:
    """A ticket whose code carried a good signature by key ``key_id``."""

    ticket: Ticket
    key_id: int


def sign_ticket(ticket: Ticket, key_id: int, private_key: Ed25519PrivateKey) -> str:
    """The QR text of ``ticket`` signed by ``private_key``, published as ``key_id``."""
    if type(key_id) is not int or not 0 <= key_id <= KEY_ID_MAX:
        raise InvalidTicket("key_id", f"must be an int in 0..{KEY_ID_MAX}, got {key_id!r}")
    body = _body(ticket, key_id)
    signature = private_key.sign(SIGNING_CONTEXT + body)
    return TICKET_PREFIX + b45encode(body + signature)


def verify_ticket(
    code: str,
    keys: Mapping[int, Ed25519PublicKey],
    at: datetime,
    leeway_s: int = 0,
) -> VerifiedTicket:
    """The ticket in ``code`` if it is valid at ``at``; raises ``TicketRejected``.

    ``leeway_s`` widens the validity window at both ends for a validator whose clock may
    be off; it is capped at ``MAX_LEEWAY_S``.
    """
    if at.tzinfo is None:
        raise InvalidTicket("at", "must be timezone-aware")
    if type(leeway_s) is not int or not 0 <= leeway_s <= MAX_LEEWAY_S:
        raise InvalidTicket("leeway_s", f"must be an int in 0..{MAX_LEEWAY_S}")
    raw = _unwrap(code)
    key_id, ticket, body_end = _parse(raw)
    public_key = keys.get(key_id)
    if public_key is None:
        raise TicketRejected(RejectionReason.UNKNOWN_KEY, f"no published key with id {key_id}")
    signature = raw[body_end:]
    if len(signature) != SIGNATURE_BYTES:
        raise TicketRejected(
            RejectionReason.BAD_SIGNATURE,
            f"signature is {len(signature)} bytes, expected {SIGNATURE_BYTES}",
        )
    try:
        public_key.verify(signature, SIGNING_CONTEXT + raw[:body_end])
    except InvalidSignature:
        raise TicketRejected(RejectionReason.BAD_SIGNATURE, f"signature does not match key {key_id}") from None
    _check_window(ticket, at, leeway_s)
    return VerifiedTicket(ticket=ticket, key_id=key_id)


def _check_window(ticket: Ticket, at: datetime, leeway_s: int) -> None:
    leeway = timedelta(seconds=leeway_s)
    if at < ticket.valid_from - leeway:
        raise TicketRejected(RejectionReason.NOT_YET_VALID, f"valid from {ticket.valid_from.isoformat()}")
    if at >= ticket.valid_until + leeway:
        raise TicketRejected(RejectionReason.EXPIRED, f"expired at {ticket.valid_until.isoformat()}")


def _check_instant(field: str, value: datetime) -> None:
    if not isinstance(value, datetime) or value.utcoffset() != timedelta(0):
        raise InvalidTicket(field, f"must be a UTC datetime, got {value!r}")
    if value.microsecond:
        raise InvalidTicket(field, "must be whole seconds: the code stores seconds")
    if not 0 <= value.timestamp() <= _TIMESTAMP_MAX:
        raise InvalidTicket(field, "must lie between 1970 and 2106")


def _body(ticket: Ticket, key_id: int) -> bytes:
    product = ticket.product.encode("ascii")
    holder = ticket.holder_ref.encode("ascii")
    header = _HEADER.pack(
        FORMAT_VERSION,
        key_id,
        ticket.ticket_id.bytes,
        int(ticket.valid_from.timestamp()),
        int(ticket.valid_until.timestamp()),
    )
    return header + bytes((len(product),)) + product + bytes((len(holder),)) + holder


def _unwrap(code: str) -> bytes:
    if len(code) > MAX_CODE_CHARS:
        raise TicketRejected(RejectionReason.MALFORMED, f"longer than {MAX_CODE_CHARS} characters")
    if not code.startswith(TICKET_PREFIX):
        raise TicketRejected(RejectionReason.MALFORMED, f"does not start with {TICKET_PREFIX!r}")
    try:
        return b45decode(code[len(TICKET_PREFIX) :])
    except Base45Error as error:
        raise TicketRejected(RejectionReason.MALFORMED, f"bad base45: {error}") from None


def _parse(raw: bytes) -> tuple[int, Ticket, int]:
    """Key id, ticket and the offset where the signature starts."""
    if len(raw) < _HEADER.size + 2:
        raise TicketRejected(RejectionReason.MALFORMED, f"only {len(raw)} bytes")
    version, key_id, ticket_id, valid_from_s, valid_until_s = _HEADER.unpack_from(raw)
    if version != FORMAT_VERSION:
        raise TicketRejected(RejectionReason.MALFORMED, f"unknown format version {version}")
    product_end = _HEADER.size + 1 + raw[_HEADER.size]
    if product_end >= len(raw):
        raise TicketRejected(RejectionReason.MALFORMED, "product overruns the code")
    holder_end = product_end + 1 + raw[product_end]
    if holder_end > len(raw):
        raise TicketRejected(RejectionReason.MALFORMED, "holder reference overruns the code")
    try:
        ticket = Ticket(
            ticket_id=UUID(bytes=ticket_id),
            product=raw[_HEADER.size + 1 : product_end].decode("ascii"),
            valid_from=datetime.fromtimestamp(valid_from_s, tz=UTC),
            valid_until=datetime.fromtimestamp(valid_until_s, tz=UTC),
            holder_ref=raw[product_end + 1 : holder_end].decode("ascii"),
        )
    except (UnicodeDecodeError, InvalidTicket) as error:
        raise TicketRejected(RejectionReason.MALFORMED, f"bad field: {error}") from None
    return key_id, ticket, holder_end
