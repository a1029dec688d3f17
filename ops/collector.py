"""The cycle collector of a serving worker, set for batches of short-lived aggregates.

A meter batch of a thousand entries makes some ten thousand container objects (sessions,
presences, their events, the answer) that live until the batch is answered. With the
interpreter's defaults (a young collection every 700 allocations) they are collected
young, survive, are promoted and soon trigger full collections, each walking the whole
heap, the libraries' modules and functions included: measured at ~40 µs of CPU per entry
event, a sixth of its cost (BENCHMARKS.md). Once the worker has started, what startup made
(modules, routes, the composed app) lives as long as the process: it is frozen out of the
collector's passes (`gc.freeze`), and young objects are collected in larger steps. Cyclic
garbage is still collected, a little later; reference counting frees the rest at once.
"""

from __future__ import annotations

import gc

from aiohttp import web

YOUNG_THRESHOLD = 50_000  # allocations between young collections (the interpreter's default: 700)
OLDER_THRESHOLDS = (20, 10)  # young collections per middle one, middle ones per full one


def settle_heap_after_startup(app: web.Application) -> None:
    """Freeze the heap and raise the collector's thresholds once ``app`` has started
    (after its other startup steps: appended last)."""

    async def settle(_app: web.Application) -> None:
        gc.collect()  # what startup left as garbage is not frozen with the rest
        gc.freeze()
        gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)

    app.on_startup.append(settle)
