"""The ticket catalogue: ``PUT /v1/tickets/products/{product_code}`` registers or revises
a product (admin), recorded as events (`ProductEntry.Published`, `.Revised`); the GET
reads one (those who sell, refund or audit tickets), and ``GET /v1/tickets/products``
lists them a page at a time, in the order they were registered (`ProductIndex`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from adapters.http.idempotency import run_write
from adapters.http.ledger import page_query
from adapters.http.problems import PROBLEM_BASE, Problem
from adapters.http.routing import Answer, Body, Call, Reply, Route, roles
from adapters.http.types import AccountPart, PositiveVnd, Text
from domain.model.clients import Role
from domain.model.errors import InvalidValue, NotFound
from domain.model.tickets import Concession, Product, ProductKind, Validity, ValidityUnit
from domain.model.tickets.products import (
    MAX_ACTIVATE_WITHIN_DAYS,
    MAX_PASSBACK_MINUTES,
    MAX_VALIDITY_DAYS,
)
from domain.services.product_index import NAME as PRODUCT_INDEX
from domain.services.product_index import list_ticket_products, product_codes_page
from domain.services.ticket_products import get_ticket_product, put_ticket_product
from domain.services.unit_of_work import execute

Kind = Literal["single_ride", "day_pass", "monthly_pass"]
ConcessionName = Literal["none", "student", "elderly"]
UnitName = Literal["minutes", "service_days"]
ProductCode = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._-]{1,16}$")]


class ValidityBody(Body):
    unit: UnitName
    length: Annotated[int, msgspec.Meta(ge=1, le=MAX_VALIDITY_DAYS, description="minutes: at most 1440")]


class ProductBody(Body):
    name: Text
    kind: Kind
    operator_id: AccountPart  # a transport_operator payee
    price_vnd: PositiveVnd
    validity: ValidityBody
    concession: ConcessionName = "none"
    passback_minutes: Annotated[int, msgspec.Meta(ge=1, le=MAX_PASSBACK_MINUTES)] = 20
    activate_within_days: Annotated[int, msgspec.Meta(ge=1, le=MAX_ACTIVATE_WITHIN_DAYS)] = 30
    on_sale: bool = True


class ValidityView(Answer):
    unit: UnitName
    length: int


class ProductView(Answer):
    product_code: str
    name: str
    kind: Kind
    concession: ConcessionName
    operator_id: str
    price_vnd: int
    validity: ValidityView
    passback_minutes: int
    activate_within_days: int
    on_sale: bool


class ProductsAnswer(Answer):
    products: list[ProductView]
    next_cursor: str | None
    as_of_position: int  # the log position the list (which products exist) reflects


def _product(code: str, body: ProductBody) -> Product:
    try:
        validity = Validity(ValidityUnit(body.validity.unit), body.validity.length)
    except InvalidValue as exc:
        raise Problem(422, "Invalid body", str(exc), f"{PROBLEM_BASE}invalid-body", field="$.validity.length") from exc
    return Product(
        code=code,
        kind=ProductKind(body.kind),
        concession=Concession(body.concession),
        name=body.name,
        price_vnd=body.price_vnd,
        validity=validity,
        passback_minutes=body.passback_minutes,
        activate_within_days=body.activate_within_days,
    )


def checked_code(code: str) -> str:
    try:
        msgspec.convert(code, ProductCode)
    except msgspec.ValidationError:
        raise NotFound(f"no ticket product {code!r}: a code is 1-16 of A-Z a-z 0-9 . _ -") from None
    return code


async def put(call: Call) -> Reply:
    body: ProductBody = call.body
    product = _product(checked_code(call.param("product_code")), body)

    def render(result: dict[str, Any]) -> tuple[int, ProductView]:
        return (201 if result["created"] else 200), msgspec.convert(result["product"], ProductView)

    return await run_write(call, put_ticket_product(product, body.operator_id, body.on_sale, call.at), render)


async def read(call: Call) -> Reply:
    outcome = await execute(call.services.store, get_ticket_product(checked_code(call.param("product_code"))))
    return Reply(200, msgspec.convert(outcome.result, ProductView))


async def list_products(call: Call) -> Reply:
    after, limit = page_query(call)
    rows = call.services.projections
    position = await rows.tracking_position(PRODUCT_INDEX)
    codes, next_cursor = await product_codes_page(rows, after, limit)
    outcome = await execute(call.services.store, list_ticket_products(codes))
    answer = {
        "products": outcome.result["products"],
        "next_cursor": None if next_cursor is None else str(next_cursor),
        "as_of_position": position,
    }
    return Reply(200, msgspec.convert(answer, ProductsAnswer))


PRODUCT = "/v1/tickets/products/{product_code}"
READERS = roles(Role.ADMIN, Role.APP, Role.FINANCE, Role.AUDITOR)
ROUTES = [
    Route(
        "GET", "/v1/tickets/products", list_products, READERS,
        "List the ticket products, in the order they were registered, with their current terms",
        response=ProductsAnswer,
        query=(("cursor", "next_cursor of the previous page"), ("limit", "products per page, at most 200")),
    ),
    Route(
        "PUT", PRODUCT, put, roles(Role.ADMIN), "Register a ticket product, or revise it (price, terms, on sale)",
        request=ProductBody, response=ProductView, other_statuses=(201,),
    ),
    Route(
        "GET", PRODUCT, read, READERS, "Read a ticket product",
        response=ProductView,
    ),
]  # fmt: skip
