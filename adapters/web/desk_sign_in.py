"""Signing in to the finance desk and out again.

``GET /finance/login`` gives the form with a CSRF token bound to a fresh nonce in its own
short-lived cookie; ``POST /finance/login`` checks that token, then the name and password
(`domain.services.users.sign_in`: a wrong password is recorded and counts towards the
lockout; a locked or disabled user is refused without the password being looked at) and
sets the session cookie. ``POST /finance/logout`` ends the session (recorded, so every
worker forgets it) and clears the cookie."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from adapters.web.desk_auth import (
    DESK,
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    SIGN_IN_COOKIE_MAX_AGE_S,
    DeskUser,
    action,
    cookie_options,
    field_text,
    see_other,
    signed_in,
)
from adapters.web.setup import render_page
from domain.services.unit_of_work import execute
from domain.services.users import sign_in, sign_out

HOME = "/finance"


def _next(raw: str) -> str:
    """Where to go after signing in: a desk page of this site only (no open redirect)."""
    if raw.startswith(HOME) and not raw.startswith("//") and "\\" not in raw:
        return raw
    return HOME


def _form(request: web.Request, status: int, **context: Any) -> web.Response:
    desk = request.app[DESK]
    nonce = desk.tokens.sign_in_nonce()
    next_page = _next(context.pop("next_page", request.query.get("next", HOME)))
    response = render_page(
        request, "finance/login.html",
        {"csrf": desk.tokens.sign_in_csrf(nonce), "next_page": next_page, "error": None, "locked_until": None,
         "name": "", **context},
        status=status,
    )  # fmt: skip
    response.set_cookie(SIGN_IN_COOKIE, nonce, max_age=SIGN_IN_COOKIE_MAX_AGE_S, **cookie_options(request))
    return response


async def login_form(request: web.Request) -> web.StreamResponse:
    if await signed_in(request) is not None:
        raise web.HTTPSeeOther(_next(request.query.get("next", HOME)))
    return _form(request, 200)


def _local_time(at: str | None) -> str | None:
    return datetime.fromisoformat(at).astimezone().strftime("%H:%M") if at else None


async def login(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    form = await request.post()
    name, password = field_text(form, "name", 64).lower(), form.get("password", "")
    next_page = field_text(form, "next", 500)
    given = form.get("csrf")
    nonce = request.cookies.get(SIGN_IN_COOKIE, "")
    if not isinstance(given, str) or not desk.tokens.sign_in_csrf_ok(nonce, given):
        return _form(request, 403, error="csrf", name=name, next_page=next_page)
    if not isinstance(password, str) or not name or not password:
        return _form(request, 401, error="missing", name=name, next_page=next_page)
    session_id = secrets.token_hex(16)
    at = desk.clock()
    outcome = (await execute(desk.store, sign_in(name, desk.passwords.checker(password), session_id, at))).result
    if not outcome["signed_in"]:
        error = "locked" if outcome["locked_until"] else "wrong"
        return _form(
            request, 401, error=error, locked_until=_local_time(outcome["locked_until"]), name=name,
            next_page=next_page,
        )  # fmt: skip
    expires_at = datetime.fromisoformat(outcome["expires_at"])
    response = see_other(_next(next_page))
    token = desk.tokens.session(outcome["name"], session_id, expires_at)
    response.set_cookie(
        SESSION_COOKIE, token, max_age=int((expires_at - at).total_seconds()), **cookie_options(request)
    )
    response.del_cookie(SIGN_IN_COOKIE, path=cookie_options(request)["path"])
    return response


async def _logout(request: web.Request, user: DeskUser, form: MultiDictProxy[Any]) -> web.StreamResponse:
    desk = request.app[DESK]
    await execute(desk.store, sign_out(user.name, user.session_id, desk.clock()))
    response = see_other(str(request.app.router["desk_sign_in"].url_for()))
    response.del_cookie(SESSION_COOKIE, path=cookie_options(request)["path"])
    return response


logout = action(_logout, decides=False)
