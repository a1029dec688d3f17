"""Composition root: the one place that builds the aiohttp app from its config."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

from aiohttp import web

from adapters.eventstore.base import redacted_url
from adapters.eventstore.checkpoints import CheckpointSigner
from adapters.eventstore.leader_lock import leader_lock
from adapters.http.admission import Admission
from adapters.http.api import add_api_routes
from adapters.http.auth import ClientDirectory
from adapters.http.banks import WEBHOOK_FAILURES
from adapters.http.context import API, ApiLimits, ApiServices
from adapters.http.display_links import DisplayKeyError, DisplayLinks
from adapters.http.problems import STORE_UNAVAILABLE, problem_middleware
from adapters.http.stream_watch import StreamWatch
from adapters.passwords import PasswordBook
from adapters.secrets import SecretSealer
from adapters.web.counter import add_counter_routes
from adapters.web.desk import add_desk_routes
from adapters.web.desk_auth import DESK, Desk
from adapters.web.desk_tokens import DeskTokens, SessionKeyError
from adapters.web.setup import setup_web
from domain.services.shared_log import SharedLog
from ops import health
from ops.access_log import access_log_middleware, send_request_id
from ops.checkpointing import run_checkpoints
from ops.config import Config, ConfigError
from ops.idempotency_retention import run_idempotency_pruning
from ops.keys import CONFIG, DISPLAY_LINKS, LEADERSHIP, METRICS, STORE, TICKET_CODES
from ops.leadership import Leadership
from ops.metrics import Metrics
from ops.payment_metrics import PaymentCounter
from ops.projections import projections, run_projection
from ops.stores import open_store
from ops.ticket_signing import ticket_codes

log = logging.getLogger(__name__)
DESK_TOKENS = web.AppKey("desk_tokens", DeskTokens)


def create_app(config: Config) -> web.Application:
    # the access log and metrics outside the problem middleware, so that they see the status it
    # produced; the access log outermost (its request id is on every line logged inside)
    app = web.Application(
        middlewares=[access_log_middleware, health.metrics_middleware, problem_middleware],
        client_max_size=config.request_body_max_bytes,
    )
    app.on_response_prepare.append(send_request_id)
    app[CONFIG] = config
    app[TICKET_CODES] = ticket_codes(config)
    app[DISPLAY_LINKS] = display_links(config)
    app[METRICS] = metrics = Metrics.create()
    app[WEBHOOK_FAILURES] = lambda provider, reason: metrics.bank_webhook_failures.labels(provider, reason).inc()
    app[DESK_TOKENS] = desk_tokens(config)
    app.cleanup_ctx.append(_event_store)
    app.cleanup_ctx.append(_leadership)
    health.add_routes(app)
    add_api_routes(app)
    setup_web(app)
    add_counter_routes(app)
    add_desk_routes(app)
    return app


def desk_tokens(config: Config) -> DeskTokens:
    """The desk's signing key from ``CITYSETTLE_SESSION_KEY_FILE`` (base64), else one for
    this process only (then sessions end when it stops; `ops.serving` gives its workers one)."""
    if config.session_key_file is None:
        log.warning("CITYSETTLE_SESSION_KEY_FILE not set: finance desk sessions end when the service stops")
        return DeskTokens.generate()
    try:
        return DeskTokens(base64.b64decode(config.session_key_file.read_text(encoding="ascii").strip(), validate=True))
    except (OSError, ValueError, SessionKeyError) as exc:
        raise ConfigError(f"CITYSETTLE_SESSION_KEY_FILE {config.session_key_file}: {exc}") from exc


async def _event_store(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    store = await open_store(config)
    store.committer.on_batch.append(app[METRICS].observe_batch)
    store.on_committed.append(PaymentCounter(app[METRICS].payments).observe)
    app[STORE] = store
    app[STORE_UNAVAILABLE] = store.unavailable_errors
    sealer = SecretSealer(config.codec.cipher_key)
    directory = ClientDirectory(store, sealer, cache_ttl_s=config.client_cache_ttl_s)
    changes = StreamWatch(store)
    app[API] = ApiServices(
        store=store,
        directory=directory,
        sealer=sealer,
        projections=store,
        changes=changes,
        display_links=app[DISPLAY_LINKS],
        wallet_payee_id=config.wallet_payee_id,
        on_signature_rejected=lambda check: app[METRICS].signature_failures.labels(check).inc(),
        on_device_batch=app[METRICS].observe_device_batch,
        ticket_codes=app[TICKET_CODES],
        on_ticket_validation=lambda outcome, reason: app[METRICS].ticket_validations.labels(outcome, reason).inc(),
        limits=ApiLimits(request_timeout_s=config.request_timeout_s, read_timeout_s=config.read_timeout_s),
        admission=Admission(config.max_in_flight),
    )
    app[DESK] = Desk(store=store, projections=store, tokens=app[DESK_TOKENS], passwords=PasswordBook(sealer))
    log.info("event store open: %s", redacted_url(config.store_url))
    yield
    await changes.close()
    await store.close()
    log.info("event store closed")


def display_links(config: Config) -> DisplayLinks:
    """The signer of counter display links, from ``CITYSETTLE_DISPLAY_KEY_FILE`` (else a random key)."""
    valid_after = timedelta(seconds=config.display_valid_after_expiry_s)
    if config.display_key_file is None:
        log.warning("CITYSETTLE_DISPLAY_KEY_FILE not set: counter display links last until this process restarts")
        return DisplayLinks.random(valid_after)
    try:
        return DisplayLinks.from_file(config.display_key_file, valid_after)
    except DisplayKeyError as exc:
        raise ConfigError(f"CITYSETTLE_DISPLAY_KEY_FILE: {exc}") from None


async def _leadership(app: web.Application) -> AsyncIterator[None]:
    """Projections, checkpoints and the pruning of old idempotency keys run in the one
    worker that holds the store's leader lock."""
    config = app[CONFIG]
    signer = None
    if config.checkpoint_key_file is None:
        log.warning("CITYSETTLE_CHECKPOINT_KEY_FILE not set: no signed checkpoints will be written")
    else:
        signer = CheckpointSigner.from_pem_file(config.checkpoint_key_file)
    store = app[STORE]

    async def duties(stop: asyncio.Event) -> None:
        shared = SharedLog(store)  # the runners read each page once, decode each event once
        tasks = [
            asyncio.create_task(run_projection(store, p, stop, shared), name=f"projection-{p.name}")
            for p in projections()
        ]
        if signer is not None:
            tasks.append(asyncio.create_task(run_checkpoints(store, signer, config.checkpoint_interval_s)))
        tasks.append(
            asyncio.create_task(
                run_idempotency_pruning(store, config.idempotency_key_days, config.idempotency_prune_batch),
                name="idempotency-pruning",
            )
        )
        try:
            await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    leadership = Leadership(
        leader_lock(config.store_url), duties, config.leader_retry_s, app[METRICS].projection_leader.set
    )
    app[LEADERSHIP] = leadership
    task = asyncio.create_task(leadership.run(), name="leadership")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
