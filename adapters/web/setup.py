"""``setup_web(app)``: the pages' templates and static assets on the service's own app.

Templates (``templates/``, then settlement's, with `settlement.templating`'s settings:
autoescaped, undefined names are errors, the ``vnd`` filter) render through
`render_page`, which gives every page its language, words and switch links and the
headers every page carries. ``/static/`` serves ``static/``; `static_url` adds the
file's hash (``?v=``), so a versioned URL is cached for a year and a changed file gets a
new URL. Nothing is loaded from anywhere else: the counters may have no internet."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from adapters.web import language
from settlement import templating

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
STATIC_PREFIX = "/static/"
STATIC_ROUTE = "static"
VERSIONED_MAX_AGE_S = 365 * 86_400  # a ?v= URL names one version of the file
UNVERSIONED_MAX_AGE_S = 300
# Pages load only what this app serves; no page may be framed (clickjacking), and no
# capability URL (a counter's token) leaves in a Referer.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def setup_web(app: web.Application) -> None:
    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(TEMPLATES), jinja2.FileSystemLoader(templating.TEMPLATES)])
    env = aiohttp_jinja2.setup(app, loader=loader, autoescape=True, default_helpers=False, **templating.options())
    templating.add_filters(env)
    app.router.add_static(STATIC_PREFIX, STATIC, name=STATIC_ROUTE, append_version=True)

    def static_url(filename: str) -> str:
        return str(app.router[STATIC_ROUTE].url_for(filename=filename))

    env.globals["static"] = static_url
    app.on_response_prepare.append(_cache_static)


def page_context(request: web.Request) -> dict[str, Any]:
    """What every page's template sees (aiohttp_jinja2's context processors keep it on the
    request under a string key, which aiohttp warns about; this is passed instead)."""
    lang = language.page_language(request)
    return {
        "lang": lang,
        "w": language.words(lang),
        "languages": language.LANGUAGES,
        "switch": language.switch_links(request),
    }


def render_page(request: web.Request, template: str, context: Mapping[str, Any], *, status: int = 200) -> web.Response:
    """A page in the request's language, with `PAGE_HEADERS`; the switch's choice is remembered."""
    response = aiohttp_jinja2.render_template(template, request, {**page_context(request), **context}, status=status)
    response.headers.update(PAGE_HEADERS)
    response.headers.setdefault("Cache-Control", "no-store")
    asked = language.asked_language(request)
    if asked is not None and request.cookies.get(language.COOKIE) != asked:
        response.set_cookie(
            language.COOKIE, asked, max_age=language.COOKIE_MAX_AGE_S, path="/", samesite="Lax", httponly=True
        )
    return response


async def _cache_static(request: web.Request, response: web.StreamResponse) -> None:
    if not request.path.startswith(STATIC_PREFIX) or response.status not in (200, 304):
        return
    age = VERSIONED_MAX_AGE_S if "v" in request.query else UNVERSIONED_MAX_AGE_S
    response.headers["Cache-Control"] = f"public, max-age={age}" + (", immutable" if "v" in request.query else "")
    response.headers["X-Content-Type-Options"] = "nosniff"
