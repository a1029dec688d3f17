"""Typed keys of the resources the app holds (entered through cleanup_ctx)."""

from __future__ import annotations

from aiohttp import web

from adapters.http.display_links import DisplayLinks
from adapters.http.ticket_codes import TicketCodes
from ops.config import Config
from ops.leadership import Leadership
from ops.metrics import Metrics
from ops.stores import Store

CONFIG = web.AppKey("config", Config)
STORE: web.AppKey[Store] = web.AppKey("store")
METRICS = web.AppKey("metrics", Metrics)
LEADERSHIP = web.AppKey("leadership", Leadership)
TICKET_CODES = web.AppKey("ticket_codes", TicketCodes)
DISPLAY_LINKS = web.AppKey("display_links", DisplayLinks)
