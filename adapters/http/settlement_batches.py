"""Closing a business day over HTTP (finance): every payee's batch, paid to the payout
account registered for it, each with its pain.001 instruction; the instruction again
(re-issue) when the bank could not use it; and the file itself.

The paying account is named in the request (as in ``citysettle settle``'s directory);
a batch's file is recorded as issued (`settlement.payouts.payout_files`), so
``GET .../pain001.xml`` answers the same bytes until it is re-issued."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

import msgspec
from aiohttp import web

from adapters.http.idempotency import run_write
from adapters.http.routing import Answer, Body, Call, Reply, Route, roles
from domain.model.clients import Role
from domain.model.errors import NotFound
from domain.services.unit_of_work import UnitOfWork
from settlement.payouts.batches import SettlementBatch
from settlement.payouts.calendar import SettlementCalendar
from settlement.payouts.day_close import batch_file, close_day, reissue_batch
from settlement.payouts.pain001 import BankAccount

FINANCE = roles(Role.FINANCE)
READERS = roles(Role.FINANCE, Role.AUDITOR)
BATCHES = "/v1/settlement/batches"
BATCH = f"{BATCHES}/{{batch_id}}"
Cutoff = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="HH:MM, Hanoi time")]
PAIN_001 = "application/xml"


class PayingAccount(Body):
    bank_bin: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$")]
    account_no: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9]{1,19}$")]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=70)]


class CloseBody(Body):
    business_date: dt.date
    paying_account: PayingAccount
    cutoff: Cutoff | None = None  # default 23:00


class ReissueBody(Body):
    paying_account: PayingAccount | None = None  # only for a batch closed by citysettle settle


class BatchLinks(Answer):
    self: str
    pain001: str


class BatchAnswer(Answer):
    id: str
    payee_account: str
    business_date: str
    sequence: int
    payout_date: str
    status: str
    net_vnd: int
    figures: dict[str, int]
    end_to_end_id: str
    closed_by: str
    reissues: list[str]
    earlier_vnd: int
    cash_held_vnd: int
    cash_released_vnd: int
    links: BatchLinks
    message_id: str | None = None  # of the instruction this answer issued


class CarriedAnswer(Answer):
    payee_account: str
    net_vnd: int


class CashDayAnswer(Answer):
    operator_id: str
    day: str
    collected_vnd: int
    not_banked_vnd: int


class DayAnswer(Answer):
    business_date: str
    batches: list[BatchAnswer]
    total_vnd: int
    carried: list[CarriedAnswer]
    cash_not_banked: list[CashDayAnswer]


def _batch(view: dict[str, Any]) -> BatchAnswer:
    links = {"self": f"{BATCHES}/{view['id']}", "pain001": f"{BATCHES}/{view['id']}/pain001.xml"}
    return msgspec.convert({**view, "links": links}, BatchAnswer)


def _paying(account: PayingAccount) -> BankAccount:
    return BankAccount(account.bank_bin, account.account_no, account.name)


def _batch_id(call: Call) -> UUID:
    raw = call.param("batch_id")
    try:
        return UUID(raw)
    except ValueError:
        raise NotFound(f"no settlement batch {raw}") from None


async def close(call: Call) -> Reply:
    body: CloseBody = call.body
    assert call.caller is not None, "a signed call"
    cutoff = dt.time.fromisoformat(body.cutoff) if body.cutoff else SettlementCalendar().cutoff
    use_case = close_day(
        call.services.store,
        call.services.projections,
        business_date=body.business_date,
        calendar=SettlementCalendar(cutoff=cutoff),
        paying_account=_paying(body.paying_account),
        closed_by=call.caller.client_id,
        at=call.at,
    )

    def render(result: dict[str, Any]) -> tuple[int, DayAnswer]:
        batches = [_batch(view) for view in result["batches"]]
        answer = DayAnswer(
            business_date=result["business_date"],
            batches=batches,
            total_vnd=sum(b.net_vnd for b in batches),
            carried=msgspec.convert(result["carried"], list[CarriedAnswer]),
            cash_not_banked=msgspec.convert(result["cash_not_banked"], list[CashDayAnswer]),
        )
        return (201 if batches else 200), answer

    return await run_write(call, use_case, render)


async def read(call: Call) -> Reply:
    batch = await UnitOfWork(call.services.store).get(SettlementBatch, _batch_id(call))
    return Reply(200, _batch(batch.view()))


async def reissue(call: Call) -> Reply:
    body: ReissueBody = call.body
    assert call.caller is not None, "a signed call"
    paying = _paying(body.paying_account) if body.paying_account else None
    use_case = reissue_batch(_batch_id(call), paying, call.caller.client_id, call.at)
    return await run_write(call, use_case, lambda view: (200, _batch(view)))


async def pain001(call: Call) -> web.StreamResponse:
    document, message_id = await batch_file(UnitOfWork(call.services.store), _batch_id(call))
    headers = {"Content-Disposition": f'attachment; filename="payout-{message_id}.xml"'}
    return web.Response(body=document, headers=headers, content_type=PAIN_001, charset="utf-8")


ROUTES = [
    Route(
        "POST", BATCHES, close, FINANCE,
        "Close a business day: one batch per payee with something to pay, to its registered payout account",
        request=CloseBody, response=DayAnswer, status=201, other_statuses=(200,),
    ),
    Route("GET", BATCH, read, READERS, "A settlement batch", response=BatchAnswer),
    Route(
        "POST", f"{BATCH}/reissue", reissue, FINANCE,
        "Issue a closed batch's payout instruction again (same EndToEndId, new message id)",
        request=ReissueBody, response=BatchAnswer,
    ),
    Route("GET", f"{BATCH}/pain001.xml", pain001, READERS, "The batch's pain.001 payout instruction, as last issued",
          response_media=PAIN_001),
]  # fmt: skip
