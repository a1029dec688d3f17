"""The list of ticket products, in the order they were registered, as a projection.

Rows: ``count`` (how many products were published) and ``product:<n>`` (the n-th, from
1, in log order): its code. A page of the list is a read of known keys, like
`settlement.reconciliation.run_index`; each product's current terms (price, on sale) are read from its
own `ProductEntry` stream, so a revision shows at once and the rows never change.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import DomainEventProtocol

from domain.model.tickets.catalogue import ProductEntry, product_entry_id
from domain.ports import ProjectionStore, ProjectionView
from domain.services.unit_of_work import UnitOfWork, UseCase

NAME = "ticket_products"
COUNT_KEY = "count"


def product_key(number: int) -> str:
    return f"product:{number}"


class ProductIndex:
    name = NAME
    handles = (ProductEntry.Published,)

    async def apply(self, event: DomainEventProtocol[Any], view: ProjectionView) -> None:
        if not isinstance(event, ProductEntry.Published):
            return
        number = int(await view.get(COUNT_KEY) or 0) + 1
        view.put(COUNT_KEY, number)
        view.put(product_key(number), str(event.product["code"]))


async def product_codes_page(rows: ProjectionStore, after: int, limit: int) -> tuple[list[str], int | None]:
    """Up to ``limit`` product codes numbered above ``after``, and the next page's cursor
    (None on the last page)."""
    count = int((await rows.get_rows(NAME, [COUNT_KEY])).get(COUNT_KEY) or 0)
    last = min(count, after + limit)
    keys = [product_key(n) for n in range(after + 1, last + 1)]
    found = await rows.get_rows(NAME, keys)
    return [str(found[k]) for k in keys if k in found], (last if last < count else None)


def list_ticket_products(codes: list[str]) -> UseCase:
    """Result: ``products``, the entries' views (as `get_ticket_product`), read in one round trip."""

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        ids = [product_entry_id(code) for code in codes]
        await uow.prefetch(ProductEntry, ids)
        return {"products": [(await uow.get(ProductEntry, i)).view() for i in ids]}

    return use_case
