"""Use cases over the recorded fee catalogue: publish or revise a service, issue an
invoice from it (paid to the agency's collection account), and read an entry.

The invoice use cases of `domain.services.fees` take a catalogue; here it is the one
entry the request names, read in the same unit of work as the invoice it prices."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from domain.model.clients import within_scope
from domain.model.errors import InvalidValue
from domain.model.fee_catalogue import CatalogueEntry, catalogue_entry_id
from domain.model.fees import FeeCatalogue, FeeService
from domain.model.payees import Payee, PayeeKind, payee_stream_id
from domain.services.fees import issue_fee_invoice
from domain.services.payees import collection_account_of
from domain.services.unit_of_work import UnitOfWork, UseCase


async def _require_payee(uow: UnitOfWork, payee_id: str, kind: PayeeKind, field: str) -> None:
    payee = await uow.find(Payee, payee_stream_id(payee_id))
    if payee is None or payee.kind is not kind:
        raise InvalidValue(f"{field} {payee_id!r} must be a registered payee of kind {kind.value}")


def put_fee_service(service: FeeService, at: datetime) -> UseCase:
    """Result: the entry's view and ``created``."""

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        await _require_payee(uow, service.agency_id, PayeeKind.AGENCY, "payee_id")
        for rule in service.subsidies:
            await _require_payee(uow, rule.budget_id, PayeeKind.BUDGET, "budget_payee_id")
        entry = await uow.find(CatalogueEntry, catalogue_entry_id(service.service_code))
        created = entry is None
        if entry is None:
            entry = CatalogueEntry.publish(service, at)
            uow.add(entry)
        else:
            entry.revise(service, at)
        return {"service": entry.view(), "created": created}

    return use_case


def issue_catalogued_invoice(
    *,
    invoice_no: str,
    payer_id: str,
    service_code: str,
    channel: str,
    at: datetime,
    scope: tuple[str, ...] = (),
    payment_ttl: timedelta = timedelta(minutes=15),
) -> UseCase:
    """Issue an invoice for a recorded service; a scoped terminal only for its agencies."""

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        entry = await uow.get(CatalogueEntry, catalogue_entry_id(service_code))
        within_scope(scope, entry.service.agency_id)
        collection = await collection_account_of(uow, entry.service.agency_id)
        issue = issue_fee_invoice(
            FeeCatalogue([entry.service]),
            invoice_no=invoice_no,
            payer_id=payer_id,
            service_code=service_code,
            channel=channel,
            collection=collection,
            at=at,
            payment_ttl=payment_ttl,
        )
        return await issue(uow)

    return use_case
