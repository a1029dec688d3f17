"""The finance desk's routes on the service's app (``/finance``): one table, so the tests
can walk every form that changes anything (`DECIDING`) and check who may post it."""

from __future__ import annotations

import re

import aiohttp_jinja2
from aiohttp import web

from adapters.web import desk_pages, desk_sign_in
from adapters.web.desk_auth import page
from settlement.templating import vnd

NBSP = "\u00a0"
PLAIN_VND = re.compile(r"(-?\d+) VND\b")

DECIDING = (
    "/finance/statements",
    "/finance/runs/{run_id}/cases/{case}/resolution",
    "/finance/batches",
)


def percent(bps: int) -> str:
    """Basis points the Vietnamese way, to a tenth: 7990 -> ``79,9 %``."""
    sign = "-" if bps < 0 else ""
    tenths = abs(bps) // 10
    return f"{sign}{tenths // 10},{tenths % 10}{NBSP}%"


def reason_vnd(reason: str) -> str:
    """An engine's reason with its plain amounts (``199000 VND``) written ``199.000 ₫``."""
    return PLAIN_VND.sub(lambda found: vnd(int(found.group(1))), reason)


def add_desk_routes(app: web.Application) -> None:
    """After `setup_web` (the pages' templates): the desk's filters and routes."""
    env = aiohttp_jinja2.get_env(app)
    env.filters["percent"] = percent
    env.filters["reason_vnd"] = reason_vnd
    router = app.router
    router.add_get("/finance/login", desk_sign_in.login_form, name="desk_sign_in")
    router.add_post("/finance/login", desk_sign_in.login)
    router.add_post("/finance/logout", desk_sign_in.logout)
    router.add_get("/finance", page(desk_pages.dashboard), name="desk")
    router.add_post(DECIDING[0], desk_pages.upload_statement)
    router.add_get("/finance/runs/{run_id}", page(desk_pages.run_page))
    router.add_get("/finance/runs/{run_id}/cases/{case}", page(desk_pages.case_page))
    router.add_post(DECIDING[1], desk_pages.resolve)
    router.add_post(DECIDING[2], desk_pages.close_business_day)
    router.add_get("/finance/batches/{batch_id}/pain001.xml", page(desk_pages.pain001))
