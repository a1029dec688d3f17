"""The service's logs as an operator collects them from a real ``citysettle serve``: one JSON
object per line, one line per request (request id, client id, route template, status,
latency), the caller's X-Request-Id taken and sent back, and no secret in any line after
requests that carry them in query strings, headers and bodies (issue 11, Observability)."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from pathlib import Path
from typing import Any

import aiohttp

from adapters.eventstore.codec import CodecOptions
from adapters.http.signing import RequestSigner
from adapters.secrets import SecretSealer
from domain.model.clients import KeyAlgorithm, Role
from ops.config import Config
from ops.stores import open_store
from tests.support.api import new_client
from tests.support.cli import citysettle
from tests.support.live import LiveApi, deadline, serving

CIPHER_KEY = base64.b64encode(bytes(range(100, 132))).decode()  # tests only
# each is sent where a careless log would keep it
QUERY_SECRETS = {
    "token": "qs-token-5d1f",
    "password": "qs-password-8a2c",
    "access_token": "qs-access-91be",
    "signature": "qs-signature-3c7d",
    "key": "qs-key-77e0",
    "secret": "qs-secret-c4a9",
}
HEADER_SECRETS = {
    "Authorization": "Bearer hdr-bearer-6f3a",
    "Signature": "sig1=:aGRyLXNpZ25hdHVyZQ==:",
    "Cookie": "session=hdr-cookie-0b8e",
    "X-Api-Key": "hdr-apikey-2d5c",
}
BODY_SECRET = "body-password-e19f"


async def up(api: LiveApi, seconds: float = 60) -> None:
    end = deadline(seconds)
    while True:
        assert time.monotonic() < end, "the service did not start"
        try:
            if (await api.call(None, "GET", "/healthz")).status == 200:
                return
        except aiohttp.ClientConnectionError:
            await asyncio.sleep(0.1)


async def registered_admin(url: str) -> tuple[RequestSigner, str]:
    store = await open_store(Config(store_url=url, codec=CodecOptions(cipher_key=CIPHER_KEY)))
    try:
        signer = await new_client(
            store, Role.ADMIN, algorithm=KeyAlgorithm.HMAC_SHA256, sealer=SecretSealer(CIPHER_KEY)
        )
    finally:
        await store.close()
    return signer, signer.key_id.rsplit(".", 1)[0]


def query(**more: str) -> str:
    return "&".join(f"{k}={v}" for k, v in (QUERY_SECRETS | more).items())


async def test_one_json_line_per_request_and_no_secret_in_any(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/events.db"
    admin, client_id = await registered_admin(url)
    log = tmp_path / "serve.log"
    answers: dict[str, aiohttp.ClientResponse] = {}
    with serving(url, 1, log, CITYSETTLE_CIPHER_KEY=CIPHER_KEY) as (_process, base):
        async with aiohttp.ClientSession() as session:
            api = LiveApi(session, base)
            await up(api)
            answers["given id"] = await session.get(f"{base}/healthz?{query()}", headers={"X-Request-Id": "req-42.a"})
            answers["odd id"] = await session.get(f"{base}/healthz", headers={"X-Request-Id": "two words\t"})
            answers["unsigned"] = await session.get(f"{base}/v1/meters/m-1?{query()}", headers=HEADER_SECRETS)
            answers["signed"] = await api.call(admin, "GET", f"/v1/meters/m-2?{query()}")
            answers["body"] = await api.call(admin, "PUT", "/v1/payees/p-1", {"name": "x", "password": BODY_SECRET})
            answers["unmatched"] = await session.get(f"{base}/no/such/route?{query()}")
            for answer in answers.values():
                await answer.read()
            key = tmp_path / "admin.key"
            key.write_text(base64.b64encode(admin.key if isinstance(admin.key, bytes) else b"").decode())
            called = await asyncio.to_thread(
                citysettle, "call", "GET", "/v1/meters/m-3", "--key", str(key), "--key-id", admin.key_id,
                "--url", base, "--request-id", "cli-7",
            )  # fmt: skip
    assert called.stderr.strip().endswith("HTTP 404 Not Found (X-Request-Id: cli-7)"), called.stderr
    text = log.read_text(encoding="utf-8")
    records = [json.loads(line) for line in text.splitlines()]  # every line is one JSON object
    assert all({"ts", "level", "logger", "message", "pid"} <= r.keys() for r in records)
    ids = {name: answer.headers["X-Request-Id"] for name, answer in answers.items()}
    assert ids["given id"] == "req-42.a"
    assert len(ids["odd id"]) == 32, "an implausible id is replaced by a new one"
    assert len(set(ids.values())) == len(ids)
    access = {r["request_id"]: r for r in records if r["logger"] == "citysettle.access"}
    expected: dict[str, tuple[str, str, int, str | None]] = {
        "given id": ("GET", "/healthz", 200, None),
        "odd id": ("GET", "/healthz", 200, None),
        "unsigned": ("GET", "/v1/meters/{device_id}", 401, None),
        "signed": ("GET", "/v1/meters/{device_id}", 404, client_id),
        "body": ("PUT", "/v1/payees/{payee_id}", 422, client_id),
        "unmatched": ("GET", "unmatched", 404, None),
        "citysettle call": ("GET", "/v1/meters/{device_id}", 404, client_id),
    }
    ids["citysettle call"] = "cli-7"
    for name, (method, route, status, client) in expected.items():
        line: dict[str, Any] = access[ids[name]]
        assert (line["message"], line["method"], line["route"], line["status"], line["client_id"]) == (
            "request",
            method,
            route,
            status,
            client,
        ), name
        assert isinstance(line["latency_ms"], float)
        assert line["latency_ms"] >= 0
    secrets = [
        *QUERY_SECRETS.values(),
        *HEADER_SECRETS.values(),
        "hdr-bearer-6f3a",
        "hdr-cookie-0b8e",
        BODY_SECRET,
        CIPHER_KEY,
        base64.b64encode(admin.key if isinstance(admin.key, bytes) else b"?").decode(),
        "m-1",  # raw paths are not logged either: routes are templates
        "no/such/route",
    ]
    leaked = [secret for secret in secrets if secret in text]
    assert leaked == []


async def test_each_worker_logs_json_lines_naming_itself(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/events.db"
    log = tmp_path / "serve.log"
    with serving(url, 2, log) as (_process, base):
        async with aiohttp.ClientSession() as session:
            api = LiveApi(session, base)
            await up(api)
            for _ in range(10):
                async with aiohttp.ClientSession() as fresh:  # new connections, spread over the workers
                    await (await fresh.get(f"{base}/healthz?token=w-token-4e2a")).read()
    text = log.read_text(encoding="utf-8")
    records = [json.loads(line) for line in text.splitlines()]
    access = [r for r in records if r["logger"] == "citysettle.access"]
    assert access
    assert {r["worker"] for r in access} <= {"1", "2"}
    assert "w-token-4e2a" not in text
