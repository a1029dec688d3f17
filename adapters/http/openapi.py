"""The OpenAPI 3.1 document, generated from the route table and its msgspec types.

Nothing here is written by hand per call: paths, parameters, bodies, answers, roles and
the error answers all come from the `Route` records the app serves."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import msgspec

from adapters.http.problems import PROBLEM_JSON
from adapters.http.routing import IDEMPOTENCY_KEY_PATTERN, JSON, Route

PATH_PARAMETER = re.compile(r"{([^}/]+)}")
REF = "#/components/schemas/{name}"


class ProblemDetails(msgspec.Struct, frozen=True, kw_only=True):
    """RFC 9457 problem details; ``check`` names a failed signature check, ``field``
    the body field that was refused."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    check: str | None = None
    field: str | None = None


def openapi_document(routes: Sequence[Route], *, title: str = "citysettle", version: str = "1") -> dict[str, Any]:
    types: list[Any] = [ProblemDetails]
    for route in routes:
        types.extend(t for t in (route.request, route.response) if t is not None)
    unique = list(dict.fromkeys(types))
    schemas, components = msgspec.json.schema_components(unique, ref_template=REF)
    refs = dict(zip(unique, schemas, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "httpMessageSignature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Signature",
                    "description": "RFC 9421 (Signature-Input and Signature, keyid and created, covering @method, "
                    "@path, @query when there is one, content-digest when there is a body)",
                }
            },
        },
    }


def _operation(route: Route, refs: dict[Any, Any]) -> dict[str, Any]:
    problem = {"description": "problem details", "content": {PROBLEM_JSON: {"schema": refs[ProblemDetails]}}}
    success: dict[str, Any] = {"description": "success"}
    if route.response is not None:
        success["content"] = {route.response_media: {"schema": refs[route.response]}}
    elif route.response_media != JSON:
        success["content"] = {route.response_media: {}}
    responses: dict[str, Any] = {str(status): success for status in (route.status, *route.other_statuses)}
    for status in _error_statuses(route):
        responses[str(status)] = problem
    patterns = dict(route.patterns)
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": _path_schema(patterns.get(name))}
        for name in PATH_PARAMETER.findall(route.path)
    ]
    parameters += [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": text,
            "schema": {"type": "integer", "minimum": 0},
        }
        for name, text in route.query
    ]
    if route.idempotent:
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": True,
                "description": "scoped per client; a retry with the same key and request replays the answer",
                "schema": {"type": "string", "pattern": f"^{IDEMPOTENCY_KEY_PATTERN}$"},
            }
        )
    operation: dict[str, Any] = {
        "summary": route.summary,
        "operationId": f"{route.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', route.path.lower()).strip('_')}",
        "parameters": parameters,
        "responses": responses,
        "x-roles": sorted(role.value for role in route.roles),
    }
    if route.raw_body:
        operation["requestBody"] = {"required": True, "content": {media: {} for media in route.raw_body}}
    if route.request is not None:
        operation["requestBody"] = {"required": True, "content": {JSON: {"schema": refs[route.request]}}}
    operation["security"] = [{"httpMessageSignature": []}] if route.signed else []
    return operation


def _path_schema(pattern: str | None) -> dict[str, Any]:
    return {"type": "string"} if pattern is None else {"type": "string", "pattern": f"^{pattern}$"}


def _error_statuses(route: Route) -> list[int]:
    statuses = [404, 409, 422, 503, *route.errors]  # 503: the store unreachable, or the request timed out
    if route.signed:
        statuses += [401, 403]
    if route.idempotent:
        statuses.append(400)
    if route.request is not None or route.raw_body or route.method in ("POST", "PUT"):
        statuses.append(413)
    if route.request is not None:
        statuses.append(415)
    if route.admitted:
        statuses.append(503)  # bounded admission (adapters.http.admission)
    return sorted(set(statuses))
