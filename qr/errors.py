"""Typed errors for everything the qr package rejects.

Every payload error names the EMVCo tag it concerns as a dotted path (``38.01.00`` is
sub-tag 00 inside sub-tag 01 of tag 38), so a terminal operator or a test can tell at once
which field was wrong. The HTTP layer maps these to problem+json; the CLI prints them.
"""

from __future__ import annotations


class QRError(ValueError):
    """Base class of every invalid input rejected by the qr package."""


class PayloadError(QRError):
    """A VietQR payload or field set is invalid.

    ``tag`` is the dotted tag path, or empty when the fault is in the payload as a whole.
    """

    def __init__(self, tag: str, reason: str) -> None:
        super().__init__(f"tag {tag}: {reason}" if tag else f"payload: {reason}")
        self.tag = tag
        self.reason = reason


class MalformedPayload(PayloadError):
    """The TLV structure is broken: bad tag or length digits, overrun, duplicate, missing."""


class ChecksumMismatch(PayloadError):
    """The CRC in tag 63 does not match the CRC computed over the payload."""

    def __init__(self, stated: str, computed: str) -> None:
        super().__init__("63", f"CRC mismatch: payload states {stated}, computed {computed}")
        self.stated = stated
        self.computed = computed


class InvalidField(PayloadError):
    """A field is structurally present but its value breaks the VietQR rules."""


class RenderError(QRError):
    """The data cannot be drawn as a QR code with the chosen parameters."""
