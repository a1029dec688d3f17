"""What the API's handlers work with, entered once by the composition root.

One typed app key holds it (`API`), set when the event store opens; handlers read it
per request, so nothing is held at module level."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from adapters.http.admission import Admission
from adapters.http.auth import ClientDirectory
from adapters.http.display_links import DisplayLinks
from adapters.http.stream_watch import StreamWatch
from adapters.http.ticket_codes import TicketCodes
from adapters.secrets import SecretSealer
from domain.ports import EventStore, ProjectionStore
from domain.services.aggregate_cache import AggregateCache
from domain.services.devices import ingestion_cache


def utc_now() -> datetime:
    return datetime.now(UTC)


def _ignore(check: str) -> None:
    return None


def _untold(outcome: str, reason: str) -> None:
    return None


def _unobserved(answer: Mapping[str, Any]) -> None:
    return None


@dataclass(frozen=True, slots=True)
class ApiLimits:
    """Explicit bounds of the API (a request body, a page of a list)."""

    body_max_bytes: int = 64 * 1024
    page_max: int = 200
    # the longest a request may take once its body is read (an event stream: until its
    # caller is known); later it is a 503 with Retry-After
    request_timeout_s: float = 10.0
    # the longest a request's body may take to arrive once its headers are in (then 408)
    read_timeout_s: float = 10.0


@dataclass(frozen=True, slots=True)
class ApiServices:
    store: EventStore
    directory: ClientDirectory
    sealer: SecretSealer
    projections: ProjectionStore
    changes: StreamWatch  # the one follower of the log that wakes server-sent event streams
    display_links: DisplayLinks  # signs and checks the counter display's capability links
    clock: Callable[[], datetime] = utc_now
    wallet_payee_id: str = "wallets"  # the payee whose collection account takes wallet top-ups
    on_signature_rejected: Callable[[str], None] = _ignore  # told the failed check (a metric)
    on_device_batch: Callable[[Mapping[str, Any]], None] = _unobserved  # told each batch's answer (metrics)
    device_cache: AggregateCache = field(default_factory=ingestion_cache)  # devices and lots between batches
    limits: ApiLimits = field(default_factory=ApiLimits)
    # signs ticket codes and publishes the keys validators check them with
    ticket_codes: TicketCodes = field(default_factory=lambda: TicketCodes.of(None))
    on_ticket_validation: Callable[[str, str], None] = _untold  # told (outcome, reason) of each validation (a metric)
    admission: Admission = field(default_factory=Admission)  # requests served at once (503 beyond)


API = web.AppKey("api", ApiServices)
