"""Prometheus metrics on the app's own registry (no global state, one per app).

Under ``citysettle serve --workers N`` the parent sets ``PROMETHEUS_MULTIPROC_DIR`` to a
fresh directory before it starts the workers; prometheus_client then keeps every value in
a per-process file there, and `exposition` answers for all workers at once: counters and
histograms summed over every worker that ever ran (a restarted worker does not reset
them), the log head as the highest any worker saw, and `citysettle_projection_leader`
per process (``pid`` label, live workers only): 1 for the one that runs the projections.
Every metric, its labels and what to alert on: docs/METRICS.md.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROC_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


@dataclass(frozen=True)
class Metrics:
    registry: CollectorRegistry
    http_requests: Counter
    http_latency: Histogram
    appends: Counter
    appended_events: Counter
    batch_events: Histogram
    log_head: Gauge
    bank_webhook_failures: Counter
    projection_leader: Gauge
    signature_failures: Counter
    device_events: Counter
    device_sequence_gaps: Counter
    ticket_validations: Counter
    payments: Counter

    @classmethod
    def create(cls) -> Metrics:
        # no `_created` series: the multiprocess view has none, and docs/METRICS.md lists
        # what a query can use, the same with one worker or several
        disable_created_metrics()  # type: ignore[no-untyped-call]
        registry = CollectorRegistry()
        return cls(
            registry=registry,
            http_requests=Counter(
                "citysettle_http_requests",
                "HTTP requests served, by route and status",
                ["method", "route", "status"],
                registry=registry,
            ),
            http_latency=Histogram(
                "citysettle_http_request_duration_seconds",
                "HTTP request latency",
                ["method", "route"],
                registry=registry,
            ),
            appends=Counter("citysettle_eventstore_appends", "Appends committed", registry=registry),
            appended_events=Counter("citysettle_eventstore_events", "Events committed", registry=registry),
            batch_events=Histogram(
                "citysettle_eventstore_batch_events",
                "Events per group-commit transaction",
                buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2000, 5000),
                registry=registry,
            ),
            bank_webhook_failures=Counter(
                "citysettle_bank_webhook_failures",
                "Bank notifications refused, by provider (unknown: no such connector) and reason",
                ["provider", "reason"],
                registry=registry,
            ),
            log_head=Gauge(
                "citysettle_eventstore_head_position",
                "Last committed global position",
                multiprocess_mode="max",
                registry=registry,
            ),
            projection_leader=Gauge(
                "citysettle_projection_leader",
                "1 in the worker that runs the projection runners and the checkpoint signer",
                multiprocess_mode="liveall",
                registry=registry,
            ),
            signature_failures=Counter(
                "citysettle_http_signature_failures",
                "Requests refused for their signature, by the check that failed",
                ["check"],
                registry=registry,
            ),
            device_events=Counter(
                "citysettle_device_events", "Device events received, by status", ["status"], registry=registry
            ),
            device_sequence_gaps=Counter(
                "citysettle_device_sequence_gaps",
                "Sequence numbers a device skipped (events not received, or not yet)",
                ["device"],
                registry=registry,
            ),
            payments=Counter(
                "citysettle_payments",
                "Payments by method (cash, cashless) and status (pending, paid, expired, cancelled): "
                "see ops/payment_metrics.py",
                ["method", "status"],
                registry=registry,
            ),
            ticket_validations=Counter(
                "citysettle_ticket_validations",
                "Ticket codes presented at validators, by outcome and the reason of a rejection",
                ["outcome", "reason"],
                registry=registry,
            ),
        )

    def observe_device_batch(self, answer: Mapping[str, Any]) -> None:
        """Count a device batch's answer (`domain.services.devices.ingest_batch`)."""
        for status, field in (("accepted", "accepted"), ("duplicate", "duplicates"), ("rejected", "rejected")):
            self.device_events.labels(status).inc(answer[field])
        missing = sum(gap["last"] - gap["first"] + 1 for gap in answer["sequence_gaps"])
        if missing:
            self.device_sequence_gaps.labels(answer["device_id"]).inc(missing)

    def observe_batch(self, appends: int, events: int) -> None:
        self.appends.inc(appends)
        self.appended_events.inc(events)
        self.batch_events.observe(events)

    def exposition(self) -> bytes:
        """The text format of every worker's metrics (see the module docstring)."""
        if os.environ.get(MULTIPROC_DIR_ENV):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)
