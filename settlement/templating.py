"""The Jinja settings shared by report.html and the service's pages (adapters/web).

Autoescaped (every value is text unless marked safe), undefined names are errors, and
the Vietnamese money and number formats as filters: ``{{ 200000 | vnd }}`` is
``200.000 ₫``, ``{{ x | money(currency) }}`` any currency, ``{{ n | group }}`` a count,
``{{ n | counted("entry", "entries") }}`` a counted noun.
report.html's templates live in ``settlement/reconciliation/templates``; the pages' loader finds them
too, so a page can reuse their parts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from settlement.reconciliation.report_words import amount, counted, group

TEMPLATES = Path(__file__).parent / "reconciliation" / "templates"


def vnd(amount_vnd: int) -> str:
    """``200.000 ₫``: points between thousands, a no-break space before the sign."""
    return amount(amount_vnd, "VND")


def options() -> dict[str, Any]:
    """Keyword arguments of `jinja2.Environment` but autoescape, which callers pass as
    ``autoescape=True`` themselves (aiohttp_jinja2.setup takes the same)."""
    return {"undefined": jinja2.StrictUndefined, "trim_blocks": True, "lstrip_blocks": True}


def add_filters(env: jinja2.Environment) -> jinja2.Environment:
    env.filters["vnd"] = vnd
    env.filters["money"] = amount
    env.filters["group"] = group
    env.filters["counted"] = counted  # {{ n | counted("entry", "entries") }}: 1 entry, 2 entries
    return env


def environment(loader: jinja2.BaseLoader | None = None) -> jinja2.Environment:
    loader = loader or jinja2.FileSystemLoader(TEMPLATES)
    return add_filters(jinja2.Environment(loader=loader, autoescape=True, **options()))
