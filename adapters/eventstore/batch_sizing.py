"""How big the next group-commit batch is: half of what is in play, within a hard bound.

The writer commits one batch at a time (the chain head's row lock is held through each
commit's fsync), while the callers the last batch answered prepare their next appends on
the event loop. What is *in play* is what is queued plus what the last batch answered and
has not been queued again (those callers are coming back). Taking half of it keeps two
batches of equal size alternating: one in the database while the loop prepares the other,
so neither waits for the other for long. The batch grows with the queue: with 256
appenders it is 128 events (what the fixed cap of before gave at that load), with 2,000
it is 1,000; under an open load (requests arriving while a batch commits) what is queued
grows with the commit latency, and the batch with it.

Bounded: at least one append, at most ``max_events`` events (an append is never split).

Measured and not taken (BENCHMARKS.md, issue 14 item 3): letting the callers come back
first and committing everything in one batch ("lockstep", twice the events per fsync)
was slower on this machine in every interleaved pair, also when the fsync was slow
(1,454-2,688 against 3,441-4,311 events/s), and a chooser that measured both plans in
blocks of batches could not tell them apart (two blocks of the same plan differed by 2x).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BatchSizing:
    """See the module docstring."""

    max_events: int

    def __post_init__(self) -> None:
        assert self.max_events > 0

    def target(self, queued: int, coming_back: int, answered: int) -> int:
        """Events the next batch takes: half of what is in play, at least 1, at most
        ``max_events``. ``answered``: events the last batch answered; when none (the
        writer starts cold, nothing to alternate with yet) everything queued. A queue
        that all came back at once (the callers' lockstep) is split too, which starts
        the alternation."""
        assert min(queued, coming_back, answered) >= 0
        wanted = queued if answered == 0 else math.ceil((queued + coming_back) / 2)
        return max(1, min(self.max_events, wanted))
