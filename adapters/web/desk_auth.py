"""Who is at the finance desk: the signed-in user behind a request's session cookie, and
the guards every desk page and form goes through.

- A page (`page`) needs a signed-in user; without one it sends the browser to the
  sign-in form (303), which brings it back afterwards.
- A form that changes anything (`action`) needs the signed-in user's CSRF token in the
  form (else 403), and the role ``finance`` (an auditor gets 403: auditors only read).
- The cookie names a session of a user (`adapters.web.desk_tokens`); it counts only while
  the user's own stream says that session is open (not signed out, user not disabled,
  not expired), so signing out in one worker ends it in every worker at once. The user
  is kept in an `AggregateCache` and brought up to date with each request (one read of
  its new events, if any).

Cookies: ``HttpOnly``, ``SameSite=Strict``, ``Path=/finance``, and ``Secure`` when the
request came over https.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from adapters.passwords import PasswordBook
from adapters.web.desk_tokens import DeskTokens
from adapters.web.setup import render_page
from domain.model.clients import Role
from domain.model.errors import DomainError, InvalidValue
from domain.model.users import User, user_stream_id
from domain.ports import EventStore, ProjectionStore
from domain.services.aggregate_cache import AggregateCache
from domain.services.unit_of_work import UnitOfWork

SESSION_COOKIE = "cs_desk"
SIGN_IN_COOKIE = "cs_sign_in"
COOKIE_PATH = "/finance"
SIGN_IN_PATH = "/finance/login"
SIGN_IN_COOKIE_MAX_AGE_S = 3_600
FORM_MAX_FIELDS = 64


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Desk:
    """What the desk's handlers work with, entered by the composition root."""

    store: EventStore
    projections: ProjectionStore
    tokens: DeskTokens
    passwords: PasswordBook
    clock: Callable[[], datetime] = utc_now
    users: AggregateCache = field(default_factory=lambda: AggregateCache([User], max_aggregates=256))


DESK = web.AppKey("desk", Desk)


@dataclass(frozen=True, slots=True)
class DeskUser:
    name: str
    role: Role
    session_id: str
    csrf: str

    @property
    def decides(self) -> bool:
        """Finance users decide (upload, resolve, close); auditors only read."""
        return self.role is Role.FINANCE


async def signed_in(request: web.Request) -> DeskUser | None:
    desk = request.app[DESK]
    token = desk.tokens.read_session(request.cookies.get(SESSION_COOKIE, ""), desk.clock())
    if token is None:
        return None
    uow = UnitOfWork(desk.store, desk.users)
    try:
        user = await uow.find(User, user_stream_id(token.user))
    except InvalidValue:
        return None
    if user is None:
        return None
    desk.users.keep([user])  # a read changes nothing: keep it for the next request
    if user.name != token.user or not user.session_open(token.session_id, desk.clock()):
        return None
    return DeskUser(user.name, user.role, token.session_id, desk.tokens.csrf(token.session_id))


def see_other(location: str) -> web.Response:
    """The answer to a form post: go and GET this page (post/redirect/get)."""
    return web.Response(status=303, headers={"Location": location})


def cookie_options(request: web.Request) -> dict[str, Any]:
    return {"path": COOKIE_PATH, "httponly": True, "samesite": "Strict", "secure": request.secure}


PageHandler = Callable[[web.Request, DeskUser], Awaitable[web.StreamResponse]]
FormHandler = Callable[[web.Request, DeskUser, MultiDictProxy[Any]], Awaitable[web.StreamResponse]]


def page(handler: PageHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def guarded(request: web.Request) -> web.StreamResponse:
        user = await signed_in(request)
        if user is None:
            raise web.HTTPSeeOther(str(request.app.router["desk_sign_in"].url_for().with_query(next=request.path_qs)))
        try:
            return await handler(request, user)
        except DomainError as refusal:  # an unknown run, case or batch; a malformed day
            return refused(request, user, refusal.status, str(refusal))

    return guarded


def refused(request: web.Request, user: DeskUser | None, status: int, message: str) -> web.Response:
    return render_page(request, "finance/refused.html", {"user": user, "message": message}, status=status)


def action(handler: FormHandler, *, decides: bool = True) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A form post: signed in (401), its session's CSRF token (403), and when ``decides``
    the finance role (403)."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        user = await signed_in(request)
        if user is None:
            return refused(request, None, 401, "signed_out")
        form = await request.post()
        if len(form) > FORM_MAX_FIELDS:
            return refused(request, user, 400, "bad_form")
        given = form.get("csrf")
        if not isinstance(given, str) or not request.app[DESK].tokens.csrf_ok(user.session_id, given):
            return refused(request, user, 403, "csrf")
        if decides and not user.decides:
            return refused(request, user, 403, "read_only")
        try:
            return await handler(request, user, form)
        except DomainError as refusal:
            return refused(request, user, refusal.status, str(refusal))

    return guarded


def field_text(form: MultiDictProxy[Any], name: str, limit: int = 500) -> str:
    value = form.get(name, "")
    return value.strip()[:limit] if isinstance(value, str) else ""
