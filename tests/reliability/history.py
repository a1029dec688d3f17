"""Every client operation of a reliability run, as the clients saw it.

An `Operation` is one thing a client wants done (issue an invoice, deliver a bank
notification, start a parking session, ...). It is sent, and sent again with the same
Idempotency-Key (or, for a bank webhook, the same body) until the service answers it
for good; every try is an `Attempt`: its answer (status and body), or that it timed out
or could not connect. The checker reads the history afterwards: an operation is
*acknowledged* once any attempt got a 2xx.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

TIMEOUT = "timeout"  # sent, no answer within the client's time limit
UNREACHABLE = "unreachable"  # the connection was refused or cut before an answer
ANSWERED = "answered"


@dataclass
class Attempt:
    started: float
    ended: float
    outcome: str  # ANSWERED, TIMEOUT or UNREACHABLE
    status: int | None = None
    body: Any = None
    replayed: bool = False
    retry_after: str | None = None


@dataclass
class Operation:
    op_id: str
    kind: str
    method: str
    path: str
    key: str | None  # the Idempotency-Key every attempt carries (None: the body deduplicates itself)
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def acknowledged(self) -> Attempt | None:
        """The first attempt answered with a 2xx."""
        return next((a for a in self.attempts if a.status is not None and 200 <= a.status < 300), None)

    @property
    def final(self) -> Attempt | None:
        return self.attempts[-1] if self.attempts else None

    @property
    def unsure(self) -> bool:
        """Some attempt may have been applied without the client hearing so."""
        return any(a.outcome != ANSWERED or (a.status or 0) >= 500 for a in self.attempts)


@dataclass
class History:
    operations: list[Operation] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def new(self, op_id: str, kind: str, method: str, path: str, key: str | None) -> Operation:
        operation = Operation(op_id, kind, method, path, key)
        self.operations.append(operation)
        return operation

    def acknowledged(self, kind: str | None = None) -> list[Operation]:
        return [o for o in self.operations if o.acknowledged is not None and (kind is None or o.kind == kind)]

    def attempts(self) -> int:
        return sum(len(o.attempts) for o in self.operations)

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.operations for a in o.attempts if a.outcome == outcome)

    def statuses(self) -> dict[int, int]:
        seen: dict[int, int] = {}
        for operation in self.operations:
            for attempt in operation.attempts:
                if attempt.status is not None:
                    seen[attempt.status] = seen.get(attempt.status, 0) + 1
        return seen

    def refusals(self) -> dict[str, int]:
        """Answers of 400 and more by status and problem type (``409 contention``)."""
        seen: dict[str, int] = {}
        for operation in self.operations:
            for attempt in operation.attempts:
                if attempt.status is not None and attempt.status >= 400:
                    kind = attempt.body.get("type", "") if isinstance(attempt.body, dict) else ""
                    name = f"{attempt.status} {str(kind).rsplit('/', 1)[-1] or 'no type'}"
                    seen[name] = seen.get(name, 0) + 1
        return seen

    def dump(self, path: Path) -> None:
        """The whole history as JSON lines, one operation a line (kept when a check fails)."""
        with path.open("w") as out:
            for operation in self.operations:
                out.write(json.dumps(asdict(operation), default=str) + "\n")
