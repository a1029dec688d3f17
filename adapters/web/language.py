"""Which language a page speaks, and its words.

Vietnamese first; English by a switch (``?lang=en``, remembered in the ``lang`` cookie).
Every string a page shows lives in ``strings/<language>/<page>.toml`` — one folder per
language, one file per page or area — so a translation is reviewed in one place and a
test checks that every language has every key the others have."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web

LANGUAGES = ("vi", "en")  # the first is the default
DEFAULT = LANGUAGES[0]
PARAM = COOKIE = "lang"
COOKIE_MAX_AGE_S = 365 * 86_400
STRINGS = Path(__file__).parent / "strings"


def asked_language(request: web.Request) -> str | None:
    """The language named by the query (the switch), if it is one we speak."""
    asked = request.query.get(PARAM)
    return asked if asked in LANGUAGES else None


def page_language(request: web.Request) -> str:
    """The query's language, else the cookie's, else Vietnamese."""
    remembered = request.cookies.get(COOKIE)
    return asked_language(request) or (remembered if remembered in LANGUAGES else DEFAULT)


@cache
def words(language: str) -> Mapping[str, Any]:
    """Every string of ``language``: one table per file (``w.counter.paid`` in a template)."""
    folder = STRINGS / language
    return {path.stem: tomllib.loads(path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.toml"))}


def switch_links(request: web.Request) -> dict[str, str]:
    """This page in each language: the same path and query (a counter's token stays) with ``lang`` set."""
    return {language: str(request.rel_url.update_query({PARAM: language})) for language in LANGUAGES}
