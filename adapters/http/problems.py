"""RFC 9457 problem details: every error leaves as application/problem+json.

Handlers raise `Problem` (or a typed domain error mapped in ``ERROR_MAP``); an event
store that cannot be reached is a 503 with Retry-After (`STORE_UNAVAILABLE`); anything
else unexpected becomes a 500 whose body says nothing about the internals, while the
log keeps the traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from domain.model.errors import DomainError
from domain.ports import IdempotencyKeyReused, StreamConflict

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://citysettle.example/problems/"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Problem(Exception):
    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        type_: str = "about:blank",
        *,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.headers = dict(headers or {})
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type_
        self.headers = dict(headers or {})
        self.extra = extra


RETRY_AFTER_S = 1  # what a 503 asks the client to wait before its retry
# The exceptions that mean "the event store cannot be reached now" (its server is down,
# refuses connections, is starting or shutting down, its disk is full): set by the
# composition root from the store adapter. Anything else unexpected is a 500.
STORE_UNAVAILABLE: web.AppKey[tuple[type[BaseException], ...]] = web.AppKey("store_unavailable_errors")


def unavailable(title: str, detail: str, kind: str) -> Problem:
    """A 503 the client should retry (the same Idempotency-Key tells whether it was applied)."""
    return Problem(503, title, detail, f"{PROBLEM_BASE}{kind}", headers={"Retry-After": str(RETRY_AFTER_S)})


ERROR_MAP: dict[type[Exception], tuple[int, str]] = {
    StreamConflict: (409, "Concurrent modification"),
    IdempotencyKeyReused: (422, "Idempotency-Key reused for a different request"),
}


def problem_response(problem: Problem, instance: str) -> web.Response:
    body = {"type": problem.type, "title": problem.title, "status": problem.status, "detail": problem.detail}
    body["instance"] = instance
    body.update(problem.extra)
    return web.json_response(body, status=problem.status, content_type=PROBLEM_JSON, headers=problem.headers)


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except Problem as problem:
        return problem_response(problem, request.path)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = problem_response(Problem(exc.status, exc.reason, exc.text or exc.reason), request.path)
        if "Allow" in exc.headers:  # a 405 must say which methods the resource has (RFC 9110)
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except tuple(ERROR_MAP) as exc:
        status, title = ERROR_MAP[type(exc)]
        retry = {"Retry-After": str(RETRY_AFTER_S)} if status == 409 else None  # a conflict passes
        return problem_response(Problem(status, title, str(exc), headers=retry), request.path)
    except DomainError as exc:
        # Typed business refusals carry their own status and a stable problem type; a
        # transient one (contention) says when to try again.
        title = exc.code.replace("-", " ").capitalize()
        retry = None if exc.retry_after_s is None else {"Retry-After": str(exc.retry_after_s)}
        refusal = Problem(exc.status, title, str(exc), f"{PROBLEM_BASE}{exc.code}", headers=retry)
        return problem_response(refusal, request.path)
    except Exception as exc:
        if isinstance(exc, request.app.get(STORE_UNAVAILABLE, ())):
            log.warning("event store unavailable on %s %s: %r", request.method, request.path, exc)
            detail = f"the event store cannot be reached now ({type(exc).__name__}); retry in {RETRY_AFTER_S} s"
            return problem_response(unavailable("Service unavailable", detail, "store-unavailable"), request.path)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem_response(
            Problem(500, "Internal Server Error", "The request failed; it has been logged."), request.path
        )
