"""Validators on buses: ``POST /v1/tickets/validate`` takes a presented ticket code and
answers accept or reject with the reason; ``GET /v1/tickets/keys`` publishes the public
keys that offline validators check codes with (a JSON Web Key Set, no private material).

A validation is checked in this order, the first failure being the answer: the code
(`qr.tickets`: malformed, unknown key, bad signature, not yet valid, expired — a forged
or altered code never reaches the ticket), the ticket exists (``unknown_ticket``), then
the ticket's own rules (`Ticket.validate`: paid, within its window, rides left, and
anti-passback per vehicle, whatever order offline validators upload their taps in). An
accepted ride is recorded with the vehicle and the validator; a rejection records
nothing. Each answer, accept or reject, is kept under the request's Idempotency-Key, so
a validator's retry gets the same answer and never rides twice; the same tap uploaded
again under another key is refused as passback (or, for a single ride, as used).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import msgspec

from adapters.http.idempotency import REPLAYED_HEADER, run_write
from adapters.http.problems import PROBLEM_BASE, Problem
from adapters.http.routing import Answer, Body, Call, Reply, Route, roles
from adapters.http.ticket_codes import VALIDATOR_LEEWAY_S
from adapters.http.types import AccountPart
from domain.model.clients import Role
from domain.model.tickets import Ticket, TicketRefused
from domain.services.tickets import validate_ticket
from domain.services.unit_of_work import UnitOfWork, UseCase
from qr.tickets import MAX_CODE_CHARS, TicketRejected

Reason = Literal[
    "malformed",
    "unknown_key",
    "bad_signature",
    "not_yet_valid",
    "expired",
    "unknown_ticket",
    "not_paid",
    "validity_ended",
    "already_used",
    "passback",
    "ended",
]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_CODE_CHARS, description="CST1:... as scanned")]
Instant = Annotated[datetime, msgspec.Meta(tz=True)]
# a tap's own time may be ahead of ours by a validator's clock drift, no more
TAP_AHEAD_MAX = timedelta(seconds=VALIDATOR_LEEWAY_S)


class ValidationBody(Body):
    code: Code
    vehicle_id: AccountPart
    validator_id: AccountPart
    tapped_at: Instant | None = None  # when the rider tapped (an offline validator's upload); default now


class ValidationAnswer(Answer):
    accepted: bool
    reason: Reason | None
    detail: str | None
    ticket_id: str | None
    product_code: str | None
    ride_no: int | None
    rides_taken: int | None
    valid_until: str | None
    vehicle_id: str
    validator_id: str
    tapped_at: str


class KeyAnswer(Answer):
    kty: Literal["OKP"]
    crv: Literal["Ed25519"]
    alg: Literal["EdDSA"]
    use: Literal["sig"]
    kid: str
    x: str


class KeySetAnswer(Answer):
    keys: list[KeyAnswer]


def _validation(call: Call, body: ValidationBody, at: datetime) -> UseCase:
    codes = call.services.ticket_codes
    base: dict[str, Any] = {
        "vehicle_id": body.vehicle_id,
        "validator_id": body.validator_id,
        "tapped_at": at.isoformat(),
        "ticket_id": None,
        "product_code": None,
        "ride_no": None,
        "rides_taken": None,
        "valid_until": None,
    }

    def rejected(reason: str, detail: str, **known: Any) -> dict[str, Any]:
        return {**base, **known, "accepted": False, "reason": reason, "detail": detail}

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        try:
            signed = codes.verify(body.code, at).ticket
        except TicketRejected as exc:
            return rejected(exc.reason.value, exc.detail)
        known = {"ticket_id": str(signed.ticket_id), "product_code": signed.product}
        if await uow.find(Ticket, signed.ticket_id) is None:
            return rejected("unknown_ticket", f"no ticket {signed.ticket_id}", **known)
        try:
            ride = await validate_ticket(signed.ticket_id, body.vehicle_id, at, body.validator_id)(uow)
        except TicketRefused as exc:
            return rejected(exc.reason.value, exc.detail, **known)
        return {
            **base,
            **known,
            "accepted": True,
            "reason": None,
            "detail": None,
            "ride_no": ride["ride_no"],
            "rides_taken": ride["rides_taken"],
            "valid_until": ride["valid_until"],
        }

    return use_case


async def validate(call: Call) -> Reply:
    body: ValidationBody = call.body
    if call.caller is None or body.validator_id not in call.caller.scope:
        raise Problem(
            403, "Forbidden", f"this client may not validate as {body.validator_id!r}", f"{PROBLEM_BASE}forbidden"
        )
    at = body.tapped_at or call.at
    if at > call.at + TAP_AHEAD_MAX:
        raise Problem(
            422,
            "Invalid body",
            f"tapped_at lies more than {VALIDATOR_LEEWAY_S} s after the service's clock",
            f"{PROBLEM_BASE}invalid-body",
            field="$.tapped_at",
        )

    reply = await run_write(call, _validation(call, body, at), lambda r: (200, msgspec.convert(r, ValidationAnswer)))
    if REPLAYED_HEADER not in reply.headers:
        answer = reply.body
        call.services.on_ticket_validation("accepted" if answer["accepted"] else "rejected", answer["reason"] or "")
    return reply


async def keys(call: Call) -> Reply:
    document = call.services.ticket_codes.published.to_jwks()
    return Reply(200, msgspec.convert(document, KeySetAnswer), {"Cache-Control": "public, max-age=300"})


ROUTES = [
    Route(
        "GET", "/v1/tickets/keys", keys, roles(Role.DEVICE, Role.APP, Role.TERMINAL),
        "The public keys ticket codes are signed with, by key id (JWKS), for offline validators",
        response=KeySetAnswer,
    ),
    Route(
        "POST", "/v1/tickets/validate", validate, roles(Role.DEVICE),
        "A validator's tap: accept or reject a presented ticket code, with the reason",
        request=ValidationBody, response=ValidationAnswer,
    ),
]  # fmt: skip
