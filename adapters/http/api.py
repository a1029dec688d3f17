"""The API's route table: every resource module's ``ROUTES``, served and described.

Adding a resource is one import and one entry in `RESOURCES`."""

from __future__ import annotations

from types import ModuleType

from aiohttp import web

from adapters.http import (
    banks,
    fees,
    ledger,
    meters,
    parking,
    parking_reservations,
    parking_sessions,
    payees,
    payment_events,
    payments,
    settlement_batches,
    settlement_runs,
    ticket_products,
    ticket_validation,
    tickets,
    wallets,
)
from adapters.http.openapi import openapi_document
from adapters.http.routing import Route, bind

RESOURCES: tuple[ModuleType, ...] = (
    payees,
    fees,
    payments,
    payment_events,
    ledger,
    banks,
    meters,
    parking,
    parking_sessions,
    parking_reservations,
    settlement_runs,
    settlement_batches,
    wallets,
    ticket_products,
    ticket_validation,
    tickets,
)
OPENAPI_PATH = "/openapi.json"


def all_routes() -> list[Route]:
    routes: list[Route] = []
    for module in RESOURCES:
        routes.extend(module.ROUTES)
    return routes


def add_api_routes(app: web.Application, routes: list[Route] | None = None) -> None:
    table = all_routes() if routes is None else routes
    for route in table:
        app.router.add_route(route.method, route.router_path, bind(route))
    document = openapi_document(table)

    async def openapi(request: web.Request) -> web.Response:
        return web.json_response(document)

    app.router.add_get(OPENAPI_PATH, openapi)
