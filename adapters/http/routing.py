"""The route table and the pipeline every API request goes through.

A `Route` says everything about one call: method, path, handler, the roles allowed,
the msgspec types of its body and answer, whether it is signed and idempotent. The app
(`bind`) and the OpenAPI document (`adapters.http.openapi`) read the same table, so
the spec cannot drift from what is served.

The pipeline, in order: read the body (bounded: 413), verify the signature (401,
naming the failed check), check the role (403), require an Idempotency-Key on a
signed POST/PUT (400), require JSON (415) and decode the body strictly into its type
(422 naming the field), run the handler, encode its answer. Everything after reading
the body is bounded by the request timeout (503 with Retry-After past it).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec
import msgspec.inspect
from aiohttp import web

from adapters.http.auth import Caller
from adapters.http.context import API, ApiServices
from adapters.http.problems import PROBLEM_BASE, RETRY_AFTER_S, Problem, unavailable
from adapters.http.signatures import Headers, SignatureRejected, SignedMessage, VerificationKey, verify_request
from domain.model.clients import Role
from domain.services.unit_of_work import RequestKey

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX = 255
IDEMPOTENCY_KEY_PATTERN = r"[\x20-\x7e]*[\x21-\x7e][\x20-\x7e]*"  # printable ASCII, not only spaces
IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
JSON = "application/json"
# the authenticated caller of the request, for what observes requests (the access log)
CALLER = web.RequestKey("caller", Caller)
EVENT_STREAM = "text/event-stream"


# What no text of a request may carry: control characters (tab and line breaks only in
# text longer than ONE_LINE_MAX: notes, reasons), bidirectional embeddings, overrides and
# isolates, zero-width and other invisible format characters, the byte-order mark and
# lone surrogates. Two ids or names that print alike must be alike.
INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\xad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ud800-\udfff]"
)
LINE_BREAK = re.compile("[\t\n\r]")
ONE_LINE_MAX = 200  # a text field of at most this many characters is one line (ids, names)


@functools.cache
def _one_line_fields(cls: type[msgspec.Struct]) -> frozenset[str]:
    """The fields of ``cls`` that are strings of at most ONE_LINE_MAX characters."""
    names = set()
    for info in msgspec.inspect.type_info(cls).fields:  # type: ignore[attr-defined]
        kind = info.type.type if isinstance(info.type, msgspec.inspect.Metadata) else info.type
        options = kind.types if isinstance(kind, msgspec.inspect.UnionType) else (kind,)
        for option in options:
            if isinstance(option, msgspec.inspect.StrType) and (option.max_length or ONE_LINE_MAX + 1) <= ONE_LINE_MAX:
                names.add(info.name)
    return frozenset(names)


def refuse_invisible(value: Any, where: str, one_line: bool) -> None:
    """Raise ValueError (msgspec's refusal) naming ``where`` when a string in ``value``
    carries a character of INVISIBLE (or, ``one_line``, a line break)."""
    if isinstance(value, str):
        found = INVISIBLE.search(value) or (LINE_BREAK.search(value) if one_line else None)
        if found:
            raise ValueError(
                f"{where} contains U+{ord(found.group()):04X}, a control or invisible character: send the text as it "
                "prints"
            )
    elif isinstance(value, list | tuple):
        for item in value:
            refuse_invisible(item, f"{where}[]", one_line)
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_invisible(key, f"{where} (a key)", True)
            refuse_invisible(item, f"{where}.{key}" if isinstance(key, str) else where, False)


class Body(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of request bodies: unknown fields are refused, types are strict, and no text
    carries control or invisible characters (`INVISIBLE`)."""

    def __post_init__(self) -> None:
        one_line = _one_line_fields(type(self))
        for name in self.__struct_fields__:
            refuse_invisible(getattr(self, name), name, name in one_line)


class Answer(msgspec.Struct, kw_only=True):
    """Base of response bodies."""


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Call:
    """One request after the pipeline: who is calling, its decoded body, its key."""

    request: web.Request
    services: ApiServices
    caller: Caller | None
    body: Any
    request_key: RequestKey | None
    at: datetime

    def param(self, name: str) -> str:
        return self.request.match_info[name]


RouteHandler = Callable[[Call], Awaitable[Reply | web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    handler: RouteHandler
    roles: frozenset[Role]
    summary: str
    request: type[Any] | None = None
    response: type[Any] | None = None
    status: int = 200
    other_statuses: tuple[int, ...] = ()
    response_media: str = JSON
    signed: bool = True
    query: tuple[tuple[str, str], ...] = ()  # optional integer query parameters: (name, description)
    body_max_bytes: int | None = None  # default: the API's limit
    # media types of a body handed to the handler as bytes, unparsed (a bank's own format)
    raw_body: tuple[str, ...] = ()
    errors: tuple[int, ...] = ()  # error statuses beyond those every route of its kind has
    # False when the body deduplicates itself (a device batch: each event's own id), so
    # no Idempotency-Key is needed.
    keyed: bool = True
    # a path parameter's regex, when a sibling path's literal segment must not match it
    # (``/v1/tickets/keys`` beside ``/v1/tickets/{ticket_id}``): (name, regex without braces)
    patterns: tuple[tuple[str, str], ...] = ()

    @property
    def idempotent(self) -> bool:
        return self.signed and self.keyed and self.method in ("POST", "PUT")

    @property
    def router_path(self) -> str:
        """The path as aiohttp's router matches it (with the parameters' regexes)."""
        path = self.path
        for name, regex in self.patterns:
            path = path.replace(f"{{{name}}}", f"{{{name}:{regex}}}")
        return path

    @property
    def admitted(self) -> bool:
        """Whether the route takes a place of the bounded admission (a stream, open for
        minutes, does not; `adapters.http.admission`)."""
        return self.response_media != EVENT_STREAM


def roles(*names: Role) -> frozenset[Role]:
    return frozenset(names)


def bind(route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    if not route.admitted:
        return _handler(route)
    handle = _handler(route)

    async def admitted(request: web.Request) -> web.StreamResponse:
        admission = request.app[API].admission
        if not admission.enter():
            raise Problem(
                503,
                "Overloaded",
                f"this worker is serving {admission.limit} requests already; retry after {RETRY_AFTER_S} s",
                f"{PROBLEM_BASE}overloaded",
                headers={"Retry-After": str(RETRY_AFTER_S)},
            )
        try:
            return await handle(request)
        finally:
            admission.leave()

    return admitted


def _handler(route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        services = request.app[API]
        at = services.clock()
        body = await _read_body(
            request, route.body_max_bytes or services.limits.body_max_bytes, services.limits.read_timeout_s
        )
        limit_s = services.limits.request_timeout_s
        try:
            async with asyncio.timeout(limit_s) as deadline:
                caller = await _authenticate(request, body, services, at) if route.signed else None
                if caller is not None:
                    request[CALLER] = caller
                if route.response_media == EVENT_STREAM:
                    deadline.reschedule(None)  # a stream lasts as long as it says, once its caller is known
                reply = await _run(route, request, services, caller, body, at)
        except TimeoutError:
            if not deadline.expired():
                raise
            raise unavailable(
                "Request timed out",
                f"no answer within {limit_s:g} s (is the event store slow?); retry with the same Idempotency-Key, "
                "which tells whether it was applied",
                "request-timeout",
            ) from None
        if isinstance(reply, web.StreamResponse):
            return reply
        return web.Response(
            body=msgspec.json.encode(reply.body), status=reply.status, headers=reply.headers, content_type=JSON
        )

    return handle


async def _run(
    route: Route, request: web.Request, services: ApiServices, caller: Caller | None, body: bytes, at: datetime
) -> Reply | web.StreamResponse:
    if caller is not None and caller.role not in route.roles:
        raise Problem(
            403,
            "Forbidden",
            f"role {caller.role.value} may not {route.method} {route.path}",
            f"{PROBLEM_BASE}forbidden",
        )
    request_key = _request_key(request, body, caller) if route.idempotent and caller is not None else None
    if route.request is not None:
        _require_json(request, body)
    decoded = body if route.raw_body else decode_body(route.request, body)
    return await route.handler(Call(request, services, caller, decoded, request_key, at))


async def _read_body(request: web.Request, limit: int, timeout_s: float) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise Problem(413, "Request body too large", f"at most {limit} bytes", f"{PROBLEM_BASE}body-too-large")
    try:
        async with asyncio.timeout(timeout_s):
            body = await request.read()  # aiohttp's client_max_size bounds it before it is buffered
    except TimeoutError:
        raise Problem(
            408,
            "Request body too slow",
            f"the body did not arrive within {timeout_s:g} s of the headers; send it at once",
            f"{PROBLEM_BASE}body-timeout",
            headers={"Connection": "close"},
        ) from None
    if len(body) > limit:
        raise Problem(413, "Request body too large", f"at most {limit} bytes", f"{PROBLEM_BASE}body-too-large")
    return body


async def _authenticate(request: web.Request, body: bytes, services: ApiServices, at: datetime) -> Caller:
    message = SignedMessage(
        request.method, f"{request.scheme}://{request.host}{request.raw_path}", Headers(request.headers.items())
    )
    found: list[Caller] = []

    async def lookup(key_id: str, when: datetime) -> VerificationKey:
        caller, key = await services.directory.resolve(key_id, when)
        found.append(caller)
        return key

    try:
        await verify_request(message, body, lookup, at)
    except SignatureRejected as exc:
        services.on_signature_rejected(exc.check)
        raise Problem(
            401, "Signature rejected", exc.detail, f"{PROBLEM_BASE}signature-rejected", check=exc.check
        ) from exc
    return found[0]


def _request_key(request: web.Request, body: bytes, caller: Caller) -> RequestKey:
    key = request.headers.get(IDEMPOTENCY_HEADER, "")
    if len(key) > IDEMPOTENCY_KEY_MAX or not IDEMPOTENCY_KEY.fullmatch(key):
        raise Problem(
            400,
            "Idempotency-Key required",
            f"a {request.method} needs an {IDEMPOTENCY_HEADER} header of 1 to {IDEMPOTENCY_KEY_MAX} printable ASCII "
            "characters (not only spaces)",
            f"{PROBLEM_BASE}idempotency-key-required",
        )
    # the request's identity: what it does (method, target) and with which body
    digest = hashlib.sha256(f"{request.method} {request.raw_path}\n".encode() + body).digest()
    return RequestKey(caller.client_id, key, digest)


def _require_json(request: web.Request, body: bytes) -> None:
    if body and request.content_type != JSON:
        raise Problem(
            415, "Unsupported media type", f"the body must be {JSON}", f"{PROBLEM_BASE}unsupported-media-type"
        )


def decode_body(body_type: type[Any] | None, body: bytes) -> Any:
    if body_type is None:
        if body:
            raise Problem(422, "Unexpected body", "this call takes no body", f"{PROBLEM_BASE}invalid-body")
        return None
    try:
        return msgspec.json.decode(body, type=body_type, strict=True)
    except msgspec.ValidationError as exc:
        message = str(exc)
        where = message.rpartition(" - at `")[2].rstrip("`") if " - at `" in message else "$"
        raise Problem(422, "Invalid body", message, f"{PROBLEM_BASE}invalid-body", field=where) from exc
    except msgspec.DecodeError as exc:
        raise Problem(422, "Invalid body", f"not JSON: {exc}", f"{PROBLEM_BASE}invalid-body", field="$") from exc
