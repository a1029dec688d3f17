"""Bounded admission: how many API requests one worker serves at once.

Beyond ``limit`` a request is answered 503 with ``Retry-After`` (`problems.RETRY_AFTER_S`) at once, before its body
is read or its signature verified, so that a worker offered more than it can do keeps
answering in milliseconds (the requests it took, quickly; the others, "come back in a
second") instead of queueing every request until each waits for tens of seconds.
Latency under overload is then about ``limit`` times a request's CPU time. Server-sent
event streams, which stay open for minutes, hold no place.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MAX_IN_FLIGHT = 64


@dataclass(slots=True)
class Admission:
    """``limit`` requests in progress at once in this process (0: no bound)."""

    limit: int = DEFAULT_MAX_IN_FLIGHT
    in_flight: int = 0
    refused: int = 0

    def enter(self) -> bool:
        if self.limit and self.in_flight >= self.limit:
            self.refused += 1
            return False
        self.in_flight += 1
        return True

    def leave(self) -> None:
        self.in_flight -= 1
