"""The ticket catalogue as events: one `ProductEntry` stream per product code.

`ProductEntry` invariants:
- it always holds one valid `Product` (see `domain.model.tickets.products`), the
  transport operator whose payable its sales credit, and whether it is on sale;
- a ticket copies its product's terms when it is bought, so revising an entry (a new
  price, taking it off sale) never changes a ticket already sold;
- a revision that repeats the current entry records nothing; the code never changes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.model.errors import InvalidTransition
from domain.model.tickets.products import Product
from domain.model.tickets.service_day import checked_id

PRODUCT_CATALOGUE_NAMESPACE = uuid5(NAMESPACE_URL, "https://citysettle.example/ticket-catalogue")


def product_entry_id(product_code: str) -> UUID:
    return uuid5(PRODUCT_CATALOGUE_NAMESPACE, product_code)


class ProductEntry(Aggregate):
    """One ticket product as the admin registered it (see module docstring)."""

    class Published(Aggregate.Created):
        product: dict[str, Any]
        operator_id: str
        on_sale: bool

    class Revised(Aggregate.Event):
        product: dict[str, Any]
        operator_id: str
        on_sale: bool

        def apply(self, aggregate: ProductEntry) -> None:
            aggregate.product = Product.from_dict(self.product)
            aggregate.operator_id = self.operator_id
            aggregate.on_sale = self.on_sale

    def __init__(self, product: dict[str, Any], operator_id: str, on_sale: bool) -> None:
        self.product = Product.from_dict(product)
        self.operator_id = operator_id
        self.on_sale = on_sale

    @classmethod
    def publish(cls, product: Product, operator_id: str, on_sale: bool, at: datetime) -> ProductEntry:
        return cls._create(
            cls.Published,
            id=product_entry_id(product.code),
            timestamp=at,
            product=product.as_dict(),
            operator_id=checked_id(operator_id, name="operator_id"),
            on_sale=bool(on_sale),
        )

    def revise(self, product: Product, operator_id: str, on_sale: bool, at: datetime) -> bool:
        """Record the new terms; False when they are the current ones."""
        assert product.code == self.product.code, "an entry keeps its code"
        checked_id(operator_id, name="operator_id")
        if (product, operator_id, on_sale) == (self.product, self.operator_id, self.on_sale):
            return False
        self.trigger_event(
            self.Revised, timestamp=at, product=product.as_dict(), operator_id=operator_id, on_sale=bool(on_sale)
        )
        return True

    def for_sale(self) -> Product:
        """The product, if it may be bought now."""
        if not self.on_sale:
            raise InvalidTransition(f"ticket product {self.product.code!r} is not on sale")
        return self.product

    def view(self) -> dict[str, Any]:
        p = self.product
        return {
            "product_code": p.code,
            "name": p.name,
            "kind": p.kind.value,
            "concession": p.concession.value,
            "operator_id": self.operator_id,
            "price_vnd": p.price_vnd,
            "validity": {"unit": p.validity.unit.value, "length": p.validity.length},
            "passback_minutes": p.passback_minutes,
            "activate_within_days": p.activate_within_days,
            "on_sale": self.on_sale,
        }
