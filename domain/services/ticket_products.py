"""Use cases over the recorded ticket catalogue: publish or revise a product, read one,
and buy a ticket of a recorded product (by wallet, or by QR into the operator's
collection account).

The purchase use cases of `domain.services.tickets` take a catalogue; here it is the
one entry the order names, read in the same unit of work as the ticket it prices, and
the operator paid is the one the entry names (a buyer cannot choose another).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.model.errors import InvalidValue
from domain.model.payees import Payee, PayeeKind, payee_stream_id
from domain.model.tickets import PaymentMethod, Product, Ticket, ticket_id
from domain.model.tickets.catalogue import ProductEntry, product_entry_id
from domain.services.payees import collection_account_of
from domain.services.tickets import purchase_ticket, purchase_ticket_by_qr
from domain.services.unit_of_work import UnitOfWork, UseCase


def put_ticket_product(product: Product, operator_id: str, on_sale: bool, at: datetime) -> UseCase:
    """Result: the entry's view and ``created``. The operator must be a registered
    ``transport_operator`` payee."""

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        payee = await uow.find(Payee, payee_stream_id(operator_id))
        if payee is None or payee.kind is not PayeeKind.TRANSPORT_OPERATOR:
            raise InvalidValue(f"operator_id {operator_id!r} must be a registered payee of kind transport_operator")
        entry = await uow.find(ProductEntry, product_entry_id(product.code))
        created = entry is None
        if entry is None:
            entry = ProductEntry.publish(product, operator_id, on_sale, at)
            uow.add(entry)
        else:
            entry.revise(product, operator_id, on_sale, at)
        return {"product": entry.view(), "created": created}

    return use_case


def get_ticket_product(product_code: str) -> UseCase:
    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        return (await uow.get(ProductEntry, product_entry_id(product_code))).view()

    return use_case


def buy_ticket(
    *,
    order_id: str,
    rider_id: str,
    product_code: str,
    payment_method: PaymentMethod,
    at: datetime,
    concession_evidence: str | None = None,
) -> UseCase:
    """Buy a ticket of a recorded product; result as `purchase_ticket` (QR: with its payment).

    A retried order finds its ticket whatever became of the product since (it may have
    gone off sale or changed its price: the ticket keeps what was bought)."""

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        existing = await uow.find(Ticket, ticket_id(order_id))
        entry = await uow.get(ProductEntry, product_entry_id(product_code))
        product = entry.product if existing is not None else entry.for_sale()
        operator_id = existing.operator_id if existing is not None else entry.operator_id
        catalogue = {product_code: existing.product if existing is not None else product}
        terms: dict[str, Any] = {
            "order_id": order_id,
            "rider_id": rider_id,
            "operator_id": operator_id,
            "product_code": product_code,
            "at": at,
            "concession_evidence": concession_evidence,
            "catalogue": catalogue,
        }
        if payment_method is PaymentMethod.WALLET:
            return await purchase_ticket(payment_method=payment_method, **terms)(uow)
        collection = await collection_account_of(uow, operator_id)
        return await purchase_ticket_by_qr(collection=collection, **terms)(uow)

    return use_case
