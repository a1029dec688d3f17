"""``citysettle call``: sign one request with a client's key, send it, print the answer.

    citysettle call METHOD PATH [--data JSON|@FILE] --key FILE --key-id ID [--url URL]
                    [--idempotency-key KEY]

A newcomer's curl. ``--key`` is the file ``clients add --key-out`` wrote: an Ed25519
PKCS#8 PEM, or an HMAC secret (base64). A POST or PUT without ``--idempotency-key``
gets a fresh one (printed on stderr, to retry with). Every request carries an
``X-Request-Id`` (``--request-id``, or a fresh one), printed beside the status line so
that the service's log line of the request can be found. The answer's body goes to
stdout, its status line to stderr. Exit 0 for a 2xx answer, 1 for any other, 2 when
the request could not be made.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import json
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from adapters.http.signing import RequestSigner
from domain.model.clients import KeyAlgorithm
from ops.config import Config

EXIT_NOT_2XX = 1
EXIT_CANNOT = 2
TIMEOUT_S = 30.0


class CannotCall(Exception):
    """The request could not be made; the message says what to fix."""


def load_signer(path: Path, key_id: str) -> RequestSigner:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CannotCall(f"cannot read --key {path}: {exc.strerror}") from None
    if raw.lstrip().startswith(b"-----BEGIN"):
        try:
            key = load_pem_private_key(raw, password=None)
        except ValueError as exc:
            raise CannotCall(f"--key {path} is not a readable PEM private key") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise CannotCall(f"--key {path} is not an Ed25519 key")
        return RequestSigner(key_id, key, KeyAlgorithm.ED25519)
    try:
        secret = base64.b64decode(raw.strip(), validate=True)
    except binascii.Error:
        raise CannotCall(f"--key {path} is neither a PEM key nor a base64 HMAC secret") from None
    return RequestSigner(key_id, secret, KeyAlgorithm.HMAC_SHA256)


def _body(data: str | None) -> bytes:
    if data is None:
        return b""
    if data.startswith("@"):
        try:
            return Path(data[1:]).read_bytes()
        except OSError as exc:
            raise CannotCall(f"cannot read --data file {data[1:]}: {exc.strerror}") from None
    return data.encode()


def _service_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CannotCall(f"--url {url!r} is not an http:// or https:// address with a host")
    return url.rstrip("/")


async def call(args: argparse.Namespace) -> tuple[int, str, bytes]:
    service = _service_url(args.url)
    signer = load_signer(args.key, args.key_id)
    method = args.method.upper()
    url = service + (args.path if args.path.startswith("/") else f"/{args.path}")
    body = _body(args.data)
    headers = {"Content-Type": "application/json"} if body else {}
    if args.request_id:  # the service logs it on its line for this request (and answers with it)
        headers["X-Request-Id"] = args.request_id
    if method in ("POST", "PUT"):
        idempotency_key = args.idempotency_key or str(uuid.uuid4())
        if not args.idempotency_key:
            print(f"Idempotency-Key: {idempotency_key}", file=sys.stderr)
        headers["Idempotency-Key"] = idempotency_key
    signed = signer.sign(method, url, body, headers)
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.request(method, url, data=body or None, headers=signed) as response,
    ):
        return response.status, response.reason or "", await response.read()


def _printable(body: bytes) -> str:
    try:
        return json.dumps(json.loads(body), ensure_ascii=False, indent=2)
    except ValueError:
        return body.decode(errors="replace")


def _command(args: argparse.Namespace) -> int:
    if args.url is None:
        config = Config.from_env()
        args.url = f"http://{config.host}:{config.port}"
    args.request_id = args.request_id or uuid.uuid4().hex
    try:
        status, reason, body = asyncio.run(call(args))
    except CannotCall as exc:
        print(f"citysettle call: {exc}", file=sys.stderr)
        return EXIT_CANNOT
    except (aiohttp.ClientError, TimeoutError) as exc:
        print(f"citysettle call: cannot reach {args.url}: {exc or type(exc).__name__}", file=sys.stderr)
        return EXIT_CANNOT
    print(f"HTTP {status} {reason} (X-Request-Id: {args.request_id})", file=sys.stderr)
    sys.stdout.write(_printable(body) + "\n")
    return 0 if 200 <= status < 300 else EXIT_NOT_2XX


def register(commands: Any) -> None:
    cmd = commands.add_parser("call", help="sign and send one API request (a newcomer's curl)")
    cmd.add_argument("method", metavar="METHOD")
    cmd.add_argument("path", metavar="PATH", help="e.g. /v1/payees/agency-1 (with ?query when needed)")
    cmd.add_argument("--data", help="the JSON body, or @FILE to read it from a file")
    cmd.add_argument("--key", type=Path, required=True, help="the private key or secret file of `clients add`")
    cmd.add_argument("--key-id", required=True, help="the key_id that `clients add` printed")
    cmd.add_argument("--url", help="the service (default http://$CITYSETTLE_HOST:$CITYSETTLE_PORT)")
    cmd.add_argument("--idempotency-key", help="for POST/PUT; a fresh one when omitted")
    cmd.add_argument(
        "--request-id", help="sent as X-Request-Id, to find the request in the service's log; a fresh one when omitted"
    )
    cmd.set_defaults(handler=_command)
