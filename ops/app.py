"""Composition root: the one place that builds the aiohttp app from its config."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from adapters.eventstore.checkpoints import CheckpointSigner
from adapters.eventstore.leader_lock import leader_lock
from adapters.http.api import add_api_routes
from adapters.http.auth import ClientDirectory
from adapters.http.banks import WEBHOOK_FAILURES
from adapters.http.context import API, ApiServices
from adapters.http.problems import problem_middleware
from adapters.secrets import SecretSealer
from ops import health
from ops.checkpointing import run_checkpoints
from ops.config import Config, redact_url
from ops.keys import CONFIG, LEADERSHIP, METRICS, STORE, TICKET_CODES
from ops.leadership import Leadership
from ops.metrics import Metrics
from ops.payment_metrics import PaymentCounter
from ops.projections import projections, run_projection
from ops.stores import open_store
from ops.ticket_signing import ticket_codes

log = logging.getLogger(__name__)


def create_app(config: Config) -> web.Application:
    # metrics outermost so that it counts the status the problem middleware produced
    app = web.Application(
        middlewares=[health.metrics_middleware, problem_middleware],
        client_max_size=config.request_body_max_bytes,
    )
    app[CONFIG] = config
    app[TICKET_CODES] = ticket_codes(config)
    app[METRICS] = metrics = Metrics.create()
    app[WEBHOOK_FAILURES] = lambda provider, reason: metrics.bank_webhook_failures.labels(provider, reason).inc()
    app.cleanup_ctx.append(_event_store)
    app.cleanup_ctx.append(_leadership)
    health.add_routes(app)
    add_api_routes(app)
    return app


async def _event_store(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    store = await open_store(config)
    store.committer.on_batch.append(app[METRICS].observe_batch)
    store.on_committed.append(PaymentCounter(app[METRICS].payments).observe)
    app[STORE] = store
    sealer = SecretSealer(config.codec.cipher_key)
    directory = ClientDirectory(store, sealer, cache_ttl_s=config.client_cache_ttl_s)
    app[API] = ApiServices(
        store=store,
        directory=directory,
        sealer=sealer,
        projections=store,
        wallet_payee_id=config.wallet_payee_id,
        on_signature_rejected=lambda check: app[METRICS].signature_failures.labels(check).inc(),
        on_device_batch=app[METRICS].observe_device_batch,
        ticket_codes=app[TICKET_CODES],
        on_ticket_validation=lambda outcome, reason: app[METRICS].ticket_validations.labels(outcome, reason).inc(),
    )
    log.info("event store open: %s", redact_url(config.store_url))
    yield
    await store.close()
    log.info("event store closed")


async def _leadership(app: web.Application) -> AsyncIterator[None]:
    """Projections and checkpoints run in the one worker that holds the store's leader lock."""
    config = app[CONFIG]
    signer = None
    if config.checkpoint_key_file is None:
        log.warning("CITYSETTLE_CHECKPOINT_KEY_FILE not set: no signed checkpoints will be written")
    else:
        signer = CheckpointSigner.from_pem_file(config.checkpoint_key_file)
    store = app[STORE]

    async def duties(stop: asyncio.Event) -> None:
        tasks = [
            asyncio.create_task(run_projection(store, p, stop), name=f"projection-{p.name}") for p in projections()
        ]
        if signer is not None:
            tasks.append(asyncio.create_task(run_checkpoints(store, signer, config.checkpoint_interval_s)))
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
