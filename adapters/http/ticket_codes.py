"""Signed ticket codes for the API: the service's signer and the keys it publishes.

A ticket's code (``CST1:...``, `qr.tickets`) states the ticket id, its product and the
span in which a ride can be accepted (`Ticket.rides_window`), signed with the current
key. Offline validators check it with the published keys alone; the service, online,
also checks the ticket itself (refunded, used, passback). Every key in `published`
verifies: the current one and those rotated out whose tickets may still be live.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from adapters.http.problems import PROBLEM_BASE, Problem
from qr.ticket_keys import TicketKeyRing, TicketSigner
from qr.tickets import Ticket as SignedTicket
from qr.tickets import VerifiedTicket

# Validators' clocks drift; a code is taken this long either side of its window (the
# service then checks the ticket's own window exactly).
VALIDATOR_LEEWAY_S = 120


class TicketSigningUnavailable(Problem):
    def __init__(self) -> None:
        super().__init__(
            503,
            "Ticket signing not configured",
            "this service has no ticket signing key: set CITYSETTLE_TICKET_KEY_FILE (an Ed25519 PEM)",
            f"{PROBLEM_BASE}ticket-signing-unavailable",
        )


@dataclass(frozen=True, slots=True)
class TicketCodes:
    signer: TicketSigner | None
    published: TicketKeyRing

    @classmethod
    def of(cls, signer: TicketSigner | None, retired: TicketKeyRing | None = None) -> TicketCodes:
        keys = dict(retired or {})
        if signer is not None:
            keys[signer.key_id] = signer.public_key
        return cls(signer, TicketKeyRing(keys))

    def require(self) -> TicketSigner:
        if self.signer is None:
            raise TicketSigningUnavailable()
        return self.signer

    def code(self, ticket: dict[str, Any]) -> str | None:
        """The code of a ticket view (`domain.services.tickets.ticket_view`); ``None``
        when no ride can be accepted on it any more (or before it is paid)."""
        if ticket["rides_from"] is None:
            return None
        start = datetime.fromisoformat(ticket["rides_from"]).astimezone(UTC)
        end = datetime.fromisoformat(ticket["rides_until"]).astimezone(UTC)
        signed = SignedTicket(
            ticket_id=UUID(ticket["ticket_id"]),
            product=ticket["product_code"],
            valid_from=datetime.fromtimestamp(math.floor(start.timestamp()), UTC),
            valid_until=datetime.fromtimestamp(math.ceil(end.timestamp()), UTC),
        )
        return self.require().sign(signed)

    def verify(self, code: str, at: datetime) -> VerifiedTicket:
        """Raises `qr.tickets.TicketRejected` with the reason."""
        return self.published.verify(code, at, VALIDATOR_LEEWAY_S)
