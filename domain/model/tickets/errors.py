"""Why a validator refuses boarding: one error type, one machine-readable reason."""

from __future__ import annotations

from enum import StrEnum

from domain.model.errors import InvalidTransition


class RefusalReason(StrEnum):
    NOT_PAID = "not_paid"
    NOT_YET_VALID = "not_yet_valid"
    VALIDITY_ENDED = "validity_ended"
    ALREADY_USED = "already_used"
    PASSBACK = "passback"
    ENDED = "ended"  # expired or refunded


class TicketRefused(InvalidTransition):
    """A ride (ticket validation or pay-as-you-go tap) is refused; nothing changed.

    ``reason`` is what the validator shows; the HTTP layer maps ``code`` as usual.
    """

    code = "ticket-refused"

    def __init__(self, reason: RefusalReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail
