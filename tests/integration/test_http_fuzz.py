"""Schemathesis against the generated OpenAPI document, every request signed by a client of
a role the operation allows: no 5xx, and every answer conforms to the document.

The service runs as ``citysettle serve`` (a real process on a real port, SQLite store);
the number of examples per operation is bounded so the run stays within CI's time."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import negative_data_rejection, positive_data_acceptance

from adapters.eventstore.codec import CodecOptions
from adapters.eventstore.sqlite import SqliteEventStore
from adapters.http.api import all_routes
from adapters.http.openapi import openapi_document
from adapters.http.signing import RequestSigner
from domain.model.clients import Role
from tests.support.api import new_client


def _document_without_auth() -> dict[str, Any]:
    """The served document minus its security scheme: this test signs every request
    itself, so generated "bad auth" cases would be signed into good ones."""
    document = openapi_document(all_routes())
    document["components"].pop("securitySchemes")
    for operations in document["paths"].values():
        for operation in operations.values():
            operation.pop("security")
    return document


SCHEMA = schemathesis.openapi.from_dict(_document_without_auth())
EXAMPLES_PER_OPERATION = int(os.environ.get("CITYSETTLE_FUZZ_EXAMPLES", "25"))
# make reliability runs this module with a larger budget (tests/reliability/test_schemathesis.py):
# on a store it names, writing each answer's status to a tally it reads afterwards
STORE_ENV = "CITYSETTLE_FUZZ_STORE"
TALLY_ENV = "CITYSETTLE_FUZZ_TALLY"
STARTUP_S = 20.0


@dataclass(frozen=True)
class Live:
    url: str
    signers: dict[str, RequestSigner]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _register(store_url: str) -> dict[str, RequestSigner]:
    store = await SqliteEventStore.open(store_url, codec=CodecOptions())
    try:
        return {
            role.value: await new_client(store, role, scope=("dev-1",) if role is Role.DEVICE else ()) for role in Role
        }
    finally:
        await store.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    store_url = os.environ.get(STORE_ENV) or f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'events.db'}"
    signers = asyncio.run(_register(store_url))
    port = _free_port()
    env = {**os.environ, "CITYSETTLE_CLIENT_CACHE_TTL_S": "0"}
    command = [sys.executable, "-m", "ops.cli", "serve", "--store", store_url, "--port", str(port)]
    server = subprocess.Popen(command, env=env, cwd=Path(__file__).resolve().parents[2], stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            try:
                if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("citysettle serve did not start")
            time.sleep(0.1)
        yield Live(url, signers)
    finally:
        server.terminate()
        server.wait(timeout=10)


def _send(case: Any, live: Live) -> requests.Response:
    kwargs = case.as_transport_kwargs(base_url=live.url)
    body = json.dumps(kwargs["json"]).encode() if "json" in kwargs else b""
    url = kwargs["url"]
    if kwargs.get("params"):
        url = f"{url}?{urlencode(kwargs['params'], doseq=True)}"
    headers = {k: str(v) for k, v in (kwargs.get("headers") or {}).items() if k.lower() != "content-type"}
    if body:
        headers["Content-Type"] = "application/json"
    key = headers.get("Idempotency-Key", "")
    if key.strip() and key.isascii() and key.isprintable():
        headers["Idempotency-Key"] = f"{key}-{uuid.uuid4()}"  # generated keys repeat across other bodies
    role = case.operation.definition.raw["x-roles"][0]
    signed = live.signers[role].sign(case.method, url, body, headers)
    response = requests.request(case.method, url, data=body or None, headers=signed, timeout=10)
    tally = os.environ.get(TALLY_ENV)
    if tally:
        with open(tally, "a", encoding="utf-8") as out:
            out.write(json.dumps({"operation": case.operation.label, "status": response.status_code}))
            out.write("\n")
    return response


@SCHEMA.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_5xx_and_every_answer_follows_the_spec(case: Any, live: Live) -> None:
    response = _send(case, live)
    assert response.status_code < 500, response.text
    # a schema-valid body may still break a business rule (an unknown payee: 422), so
    # "valid data is accepted" cannot hold; everything else is checked
    excluded = [positive_data_acceptance]
    if response.status_code == 413:
        # refused for its size before its content was read: a rejection schemathesis does not list
        excluded.append(negative_data_rejection)
    case.validate_response(response, excluded_checks=excluded)
