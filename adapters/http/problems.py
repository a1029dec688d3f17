"""RFC 9457 problem details: every error leaves as application/problem+json.

Handlers raise `Problem` (or a typed domain error mapped in ``ERROR_MAP``); anything
unexpected becomes a 500 whose body says nothing about the internals, while the log
keeps the traceback.
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
        self.extra = extra


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
        return problem_response(Problem(status, title, str(exc)), request.path)
    except DomainError as exc:
        # Typed business refusals carry their own status and a stable problem type.
        title = exc.code.replace("-", " ").capitalize()
        return problem_response(Problem(exc.status, title, str(exc), f"{PROBLEM_BASE}{exc.code}"), request.path)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem_response(
            Problem(500, "Internal Server Error", "The request failed; it has been logged."), request.path
        )
