"""A client that retries as the API asks its clients to: the same Idempotency-Key (or, for
a bank webhook, the same body) until the service answers for good, every try recorded.

Retried: no answer in time, no connection, a 5xx, a 409 that carries Retry-After (the
service's "try again"). Final: a 2xx (acknowledged) or any other answer. Each
operation is bounded in attempts and in time; one that is still unanswered then is
left as it is, and the checker asks about it once the service is up again.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from adapters.http.signing import RequestSigner
from tests.reliability.history import ANSWERED, TIMEOUT, UNREACHABLE, Attempt, History, Operation

RETRY_AFTER_MAX_S = 2.0


@dataclass(frozen=True)
class Budget:
    attempts: int = 400
    seconds: float = 90.0
    request_timeout_s: float = 10.0
    backoff_first_s: float = 0.05
    backoff_max_s: float = 1.0


def should_retry(attempt: Attempt) -> bool:
    if attempt.outcome != ANSWERED:
        return True
    status = attempt.status or 0
    return status >= 500 or (status == 409 and attempt.retry_after is not None)


class ReliableClient:
    def __init__(self, session: aiohttp.ClientSession, base: str, history: History, budget: Budget) -> None:
        self.session = session
        self.base = base
        self.history = history
        self.budget = budget
        self.stopping = False  # set: give up on what is not answered yet (the run's time is over)
        # several servers of one service: each try goes to the next; with ``twins`` the first
        # try of a keyed request goes to two of them at once
        self.bases = [base]
        self.twins = False

    async def send(
        self,
        operation: Operation,
        signer: RequestSigner | None,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Attempt | None:
        """Send until a final answer (returned) or the budget is spent (None)."""
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        ends = time.monotonic() + self.budget.seconds
        first = sum(map(ord, operation.op_id))  # spread operations over the servers
        for tries in range(self.budget.attempts):
            base = self.bases[(first + tries) % len(self.bases)]
            if tries == 0 and self.twins and operation.key is not None and len(self.bases) > 1:
                other = self.bases[(first + 1) % len(self.bases)]
                both = await asyncio.gather(
                    self.once(operation, signer, data, headers or {}, base),
                    self.once(operation, signer, data, headers or {}, other),
                )
                attempt = next((a for a in both if not should_retry(a)), both[0])
            else:
                attempt = await self.once(operation, signer, data, headers or {}, base)
            if not should_retry(attempt):
                return attempt
            if self.stopping or time.monotonic() > ends:
                return None
            pause = min(self.budget.backoff_first_s * 2**tries, self.budget.backoff_max_s)
            if attempt.retry_after is not None and attempt.retry_after.isdigit():
                pause = max(pause, min(float(attempt.retry_after), RETRY_AFTER_MAX_S))
            await asyncio.sleep(pause)
        return None

    async def once(
        self,
        operation: Operation,
        signer: RequestSigner | None,
        data: bytes,
        headers: dict[str, str],
        base: str | None = None,
    ) -> Attempt:
        url = (base or self.base) + operation.path
        sent = dict(headers)
        if data and "Content-Type" not in sent:
            sent["Content-Type"] = "application/json"
        if operation.key is not None:
            sent["Idempotency-Key"] = operation.key
        if signer is not None:
            sent = signer.sign(operation.method, url, data, sent)
        started = time.monotonic()
        timeout = aiohttp.ClientTimeout(total=self.budget.request_timeout_s)
        try:
            async with self.session.request(
                operation.method, url, data=data or None, headers=sent, timeout=timeout
            ) as response:
                raw = await response.read()
                attempt = Attempt(
                    started,
                    time.monotonic(),
                    ANSWERED,
                    response.status,
                    _decoded(raw),
                    response.headers.get("Idempotent-Replayed") == "true",
                    response.headers.get("Retry-After"),
                )
        except TimeoutError:
            attempt = Attempt(started, time.monotonic(), TIMEOUT)
        except (aiohttp.ClientError, OSError) as exc:
            attempt = Attempt(started, time.monotonic(), UNREACHABLE, body=type(exc).__name__)
        operation.attempts.append(attempt)
        return attempt


def _decoded(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw[:200].decode(errors="replace")
