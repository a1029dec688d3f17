"""Forgery and bad input: requests an attacker or a broken client sends, against a running
``citysettle serve``; each must be refused (a 4xx problem, or for a request trickled byte
by byte a closed connection within a bounded time) and change nothing.

The run first makes some genuine state with the reliability workload (signed fee
invoices, wallet top-ups, PayOS notices, parking sessions) plus a genuine notice of each
other bank provider (Casso, SePay, camt.054 push), a wallet-bought bus ticket and its
ride. Then the attacks, one at a time, each between two readings of the store's chain
head (position and hash): an attack that moved the head changed state. The groups:

- *signature*: unsigned, signed by another key under a real key id, an unknown key id,
  stale and future ``created``, an ``expires`` passed, the body or the target changed
  after signing, garbage signature fields; a genuine signed request replayed as it was
  (the stored answer, replayed, nothing new) and replayed under another Idempotency-Key;
- *webhook*: for each provider a forged signature (another secret), an unsigned
  delivery, the amount changed after signing (not SePay: it signs no body, its API key
  is a bearer secret), a stale signature time (Casso, camt.054) or transaction time
  (SePay), an unknown connector, and the genuine delivery replayed (answered as
  delivered, the credit not booked again);
- *ticket*: a code signed by another key under the real key id, an unknown key id, a
  tampered and a malformed code, the single ride's code copied to another bus, a
  validator posting as another validator;
- *body*: a corpus of malformed bodies on a signed write (wrong types, huge, negative,
  zero and float amounts, unicode tricks — RTL override, zero-width, NUL, an overlong
  UTF-8 sequence, a lone surrogate —, deep nesting, oversized bodies, not JSON);
- *slow*: the body, and the headers, trickled a byte a second (slow loris): the
  connection must be closed, or the request refused, within the service's read timeout
  plus ``SLOW_MARGIN_S``;
- *roles*: every signed route of the route table x every role: a role the route does
  not allow gets 403 and changes nothing (an allowed role is not refused for its role
  and gets no 5xx); every signed route unsigned gets 401.

At the end the reliability checker compares the whole state with the reference model of
the genuine operations (nothing lost, nothing applied twice, the ledger balanced,
``audit verify`` and ``audit replay``): an attack that slipped an effect in shows there
too.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import aiohttp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.http.api import all_routes
from adapters.http.routing import Route
from adapters.http.signing import RequestSigner
from adapters.secrets import SecretSealer
from domain.model.bank_connectors import BankProvider, SealedSecret
from domain.model.clients import Role
from domain.ports import ChainHead, EventStore
from domain.services.bank_connectors import register_bank_connector
from domain.services.unit_of_work import execute
from ops.config import Config
from ops.stores import open_store
from qr.ticket_keys import TicketSigner
from qr.tickets import Ticket as SignedTicket
from tests.reliability.checker import (
    Reader,
    Verdict,
    build_model,
    caught_up,
    check_api,
    check_audit,
    check_log,
    read_log,
)
from tests.reliability.client import Budget, ReliableClient
from tests.reliability.history import ANSWERED, Attempt, History, Operation
from tests.reliability.runs import checkpoint_env, full
from tests.reliability.service import Service
from tests.reliability.workload import AGENCY_ACCOUNT, PAYOS_SECRET, Signers, Workload, seed_store
from tests.support.api import ed25519_material, new_client
from tests.support.banks import (
    CamtCredit,
    SignedRequest,
    camt054,
    camt054_request,
    casso_body,
    casso_request,
    payos_data,
    payos_request,
    sepay_body,
    sepay_request,
)

SECRETS = {
    BankProvider.PAYOS: PAYOS_SECRET,
    BankProvider.CASSO: b"casso-reliability-checksum-0123456789",
    BankProvider.SEPAY: b"sepay-reliability-apikey-0123456789",
    BankProvider.CAMT054: b"camt054-reliability-secret-0123456789",
}
TICKET_OPERATOR = "transerco"
TICKET_PRODUCT = "SINGLE"
TICKET_PRICE_VND = 8_000
RIDER = "rider-forgery"
VALIDATOR = "val-32-001"
SLOW_MARGIN_S = 3.0  # a trickled request must be cut off (or refused) within the read timeout plus this
SLOW_BYTE_EVERY_S = 1.0
ANSWER_TIMEOUT_S = 20.0
NESTING = 100_000
LARGE_BODY = 1_000_000  # sent from a file-like object (aiohttp warns of big bytes)


def read_timeout_s() -> int:
    """The service's CITYSETTLE_READ_TIMEOUT_S in the run: its default (10) at full size."""
    return 10 if full() else 3


@dataclass
class Case:
    group: str
    name: str
    status: int | None  # None: the connection was closed without an answer
    took_s: float
    problem: bool  # the answer was application/problem+json
    moved: bool  # the chain head moved
    body: Any = None


@dataclass
class World:
    """What the genuine phase made and the attacks aim at."""

    signers: Signers
    roles: dict[Role, RequestSigner]
    ticket_key: Path
    ticket_code: str = ""
    ticket_id: str = ""
    genuine_webhooks: dict[BankProvider, SignedRequest] = field(default_factory=dict)
    genuine_purchase: tuple[str, bytes, dict[str, str]] | None = None  # url, body, the signed headers


def new_ticket_key(path: Path) -> Path:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.write_bytes(pem)
    path.chmod(0o600)
    return path


async def seed_world(store_url: str, folder: Path) -> World:
    """The workload's world, and a connector of every other provider and a client of every role."""
    signers = await seed_store(store_url)
    store = await open_store(Config(store_url=store_url))
    try:
        since = datetime.now(UTC) - timedelta(days=1)
        sealer = SecretSealer(None)
        for provider, secret in SECRETS.items():
            if provider is not BankProvider.PAYOS:  # seed_store registered it
                sealed = SealedSecret(sealer.seal(secret))
                await execute(store, register_bank_connector(provider.value, provider, sealed, since))
        roles = {
            role: await new_client(store, role, scope=(VALIDATOR,) if role is Role.DEVICE else ()) for role in Role
        }
    finally:
        await store.close()
    return World(signers, roles, new_ticket_key(folder / "ticket.pem"))


Expect = Callable[[int, Any], str | None]
"""Judges an answer (status, body): what is wrong with it, or None."""


class Attacker:
    def __init__(self, session: aiohttp.ClientSession, base: str, store: EventStore, verdict: Verdict) -> None:
        self.session = session
        self.base = base
        self.store = store
        self.verdict = verdict
        self.cases: list[Case] = []

    async def head(self) -> ChainHead:
        return await self.store.head()

    async def send(
        self,
        group: str,
        name: str,
        method: str,
        path: str,
        data: bytes = b"",
        headers: dict[str, str] | None = None,
        *,
        expect: Expect | None = None,
        parser: bool = False,
    ) -> Case:
        """Send as it is; the case is judged by ``expect``, by default: a 4xx problem+json;
        and in every case: the head did not move. ``parser``: the HTTP parser refuses it
        before the application sees it (a field over 8 KB), in plain text."""
        before = await self.head()
        started = time.monotonic()
        status: int | None = None
        body: Any = None
        problem = False
        try:
            async with self.session.request(
                method,
                self.base + path,
                data=(io.BytesIO(data) if len(data) > LARGE_BODY else data) or None,
                headers=headers or {},
                timeout=aiohttp.ClientTimeout(total=ANSWER_TIMEOUT_S),
                skip_auto_headers=("Content-Type",),
            ) as response:
                raw = await response.read()
                status = response.status
                problem = response.content_type == "application/problem+json"
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw[:200].decode(errors="replace")
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            body = type(exc).__name__
        after = await self.head()
        case = Case(group, name, status, time.monotonic() - started, problem, after != before, body)
        self.judge(case, expect or refused, parser)
        return case

    def judge(self, case: Case, expect: Expect, parser: bool = False) -> None:
        self.cases.append(case)
        what = f"{case.group}/{case.name}"
        if case.moved:
            self.verdict.applied_twice += 1
            self.verdict.problems.append(f"{what}: the store changed ({case.status} {str(case.body)[:300]})")
        if case.status is None:
            self.verdict.problems.append(f"{what}: no answer ({case.body})")
            return
        wrong = expect(case.status, case.body)
        if wrong is not None:
            self.verdict.problems.append(f"{what}: {wrong}: {case.status} {str(case.body)[:300]}")
        elif case.status >= 400 and not case.problem and not (parser and case.status == 400):
            self.verdict.problems.append(f"{what}: {case.status} without problem+json: {str(case.body)[:200]}")

    async def signed(
        self,
        group: str,
        name: str,
        signer: RequestSigner,
        method: str,
        path: str,
        data: bytes = b"",
        *,
        key: str | None = "auto",
        content_type: str = "application/json",
        expect: Expect | None = None,
    ) -> Case:
        headers: dict[str, str] = {}
        if data:
            headers["Content-Type"] = content_type
        if key == "auto" and method in ("POST", "PUT"):
            headers["Idempotency-Key"] = f"attack-{uuid.uuid4()}"
        elif key not in (None, "auto"):
            headers["Idempotency-Key"] = key
        signed = signer.sign(method, self.base + path, data, headers)
        return await self.send(group, name, method, path, data, signed, expect=expect)


def refused(status: int, _body: Any) -> str | None:
    return None if 400 <= status < 500 else "not refused with a 4xx"


def status_is(*wanted: int) -> Expect:
    def expect(status: int, _body: Any) -> str | None:
        return None if status in wanted else f"expected {'/'.join(map(str, wanted))}"

    return expect


def check_is(status_wanted: int, check: str) -> Expect:
    def expect(status: int, body: Any) -> str | None:
        got = body.get("check") if isinstance(body, dict) else None
        return None if (status, got) == (status_wanted, check) else f"expected {status_wanted} check {check}"

    return expect


def rejected_ticket(*reasons: str) -> Expect:
    """A validator's answer: 200 ``accepted: false`` with one of ``reasons`` (the
    validation contract answers a refused ride so, and records nothing)."""

    def expect(status: int, body: Any) -> str | None:
        if status != 200 or not isinstance(body, dict):
            return "expected a validator's 200 answer"
        if body.get("accepted") is not False or body.get("reason") not in reasons:
            return f"expected accepted false, reason {'/'.join(reasons)}"
        return None

    return expect


def replayed(status: int, _body: Any) -> str | None:
    return None if 200 <= status < 300 else "a repeated genuine request is answered as before"


# -- the genuine phase ----------------------------------------------------------------


async def genuine(workload: Workload, world: World, stories: int) -> None:
    """The workload's stories, a ticket bought from a paid wallet and ridden once, and a
    genuine notice of every provider besides PayOS (an unreferenced credit: suspense)."""
    await workload.register_payees()
    await workload.run(3, stories)
    client = workload.client
    admin = world.signers.admin
    operator = {
        "name": "Transerco",
        "kind": "transport_operator",
        "collection_account": {"bank_bin": "970415", "account_no": "1140000088", "account_name": "CITY TRANSIT"},
    }
    product = {
        "name": "Single ride",
        "kind": "single_ride",
        "operator_id": TICKET_OPERATOR,
        "price_vnd": TICKET_PRICE_VND,
        "validity": {"unit": "minutes", "length": 90},
        "passback_minutes": 1,
    }
    for path, body in (
        (f"/v1/payees/{TICKET_OPERATOR}", operator),
        (f"/v1/tickets/products/{TICKET_PRODUCT}", product),
    ):
        done = await workload._send(workload._op("setup", "PUT", path), admin, body)
        assert done is not None, f"PUT {path} failed: {client.history.operations[-1]}"
    payment = await workload.ask_topup(RIDER, 100_000)
    assert payment is not None, "the rider's top-up was not asked"
    credited = await workload.pay(payment)
    assert credited.acknowledged is not None, "the rider's top-up was not paid"

    purchase = workload._op("ticket", "POST", "/v1/tickets")
    workload.params[purchase.op_id] = {"holder": RIDER, "price_vnd": TICKET_PRICE_VND, "operator": TICKET_OPERATOR}
    data = json.dumps({"product_code": TICKET_PRODUCT, "rider_id": RIDER, "payment_method": "wallet"}).encode()
    url = client.base + purchase.path
    assert purchase.key is not None
    headers = world.signers.app.sign(
        "POST", url, data, {"Content-Type": "application/json", "Idempotency-Key": purchase.key}
    )
    attempt = await send_recorded(client, purchase, data, headers)
    assert attempt.status == 201, f"the ticket was not bought: {attempt}"
    world.genuine_purchase = (url, data, headers)
    world.ticket_code, world.ticket_id = attempt.body["code"], attempt.body["ticket_id"]
    ride = workload._op("ride", "POST", "/v1/tickets/validate")
    first_tap = {"code": world.ticket_code, "vehicle_id": "bus-32-001", "validator_id": VALIDATOR}
    answer = await workload._send(ride, world.roles[Role.DEVICE], first_tap)
    assert answer is not None, "the genuine ride was not answered"
    assert answer.get("accepted") is True, f"the genuine ride was refused: {answer}"

    at = datetime.now(UTC)
    note = "chuyen khoan"
    deliveries = {
        BankProvider.CASSO: (
            casso_request(
                casso_body(amount=31_000, description=note, reference="FTCASSO1", at=at, account_no=AGENCY_ACCOUNT),
                SECRETS[BankProvider.CASSO],
                at,
            ),
            "FTCASSO1",
            31_000,
        ),
        BankProvider.SEPAY: (
            sepay_request(
                sepay_body(amount=32_000, content=note, reference="FTSEPAY1", at=at, account_no=AGENCY_ACCOUNT),
                SECRETS[BankProvider.SEPAY].decode(),
            ),
            "FTSEPAY1",
            32_000,
        ),
        BankProvider.CAMT054: (
            camt054_request(
                camt054([CamtCredit("33000", "FTCAMT1", note)], booked=date.today(), account_no=AGENCY_ACCOUNT),
                SECRETS[BankProvider.CAMT054],
                at,
            ),
            "FTCAMT1",
            33_000,
        ),
    }
    for provider, (request, tx, amount_vnd) in deliveries.items():
        notice = workload._op("credit", "POST", f"/v1/banks/{provider.value}/notifications", keyed=False)
        workload.params[notice.op_id] = {
            "account_no": AGENCY_ACCOUNT,
            "tx": tx,
            "amount_vnd": amount_vnd,
            "raw": request.body,
            "reference": None,
        }
        delivered = await client.send(notice, None, raw=request.body, headers=request.headers)
        assert delivered is not None, f"the genuine {provider} notice was not answered"
        assert delivered.status == 200, f"the genuine {provider} notice failed: {delivered}"
        world.genuine_webhooks[provider] = request
    # PayOS: the rider's top-up notice
    world.genuine_webhooks[BankProvider.PAYOS] = SignedRequest(
        {"Content-Type": "application/json"}, workload.params[credited.op_id]["raw"]
    )


async def send_recorded(client: ReliableClient, operation: Operation, data: bytes, headers: dict[str, str]) -> Attempt:
    """One attempt with headers signed by the caller (so that the same bytes can be sent
    again), recorded in the history."""
    started = time.monotonic()
    async with client.session.post(client.base + operation.path, data=data, headers=headers) as response:
        raw = await response.read()
        attempt = Attempt(
            started,
            time.monotonic(),
            ANSWERED,
            response.status,
            json.loads(raw),
            response.headers.get("Idempotent-Replayed") == "true",
            response.headers.get("Retry-After"),
        )
    operation.attempts.append(attempt)
    return attempt


# -- the attacks ----------------------------------------------------------------------

TOPUP = "/v1/payments"


def topup_body(**change: Any) -> bytes:
    body = {"purpose": "wallet_topup", "purpose_id": "holder-attack", "amount_vnd": 50_000, **change}
    return json.dumps(body).encode()


async def signature_attacks(a: Attacker, world: World) -> None:
    app = world.signers.app
    data = topup_body()
    g = "signature"
    await a.send(g, "unsigned", "POST", TOPUP, data, {"Content-Type": "application/json", "Idempotency-Key": "u1"},
                 expect=check_is(401, "signature-missing"))  # fmt: skip
    forger = RequestSigner(app.key_id, ed25519_material()[0])
    await a.signed(g, "another key under a real key id", forger, "POST", TOPUP, data, expect=check_is(401, "signature"))
    stranger = RequestSigner("cl_nobody.k1", ed25519_material()[0])
    await a.signed(g, "unknown key id", stranger, "POST", TOPUP, data, expect=check_is(401, "keyid"))
    url = a.base + TOPUP
    base_headers = {"Content-Type": "application/json", "Idempotency-Key": "stale-1"}
    for name, shift in (("created 10 min ago", -600), ("created 10 min ahead", 600)):
        headers = app.sign("POST", url, data, base_headers, created=datetime.now(UTC) + timedelta(seconds=shift))
        await a.send(g, name, "POST", TOPUP, data, headers, expect=check_is(401, "created"))
    headers = app.sign("POST", url, data, base_headers)
    expired = dict(headers)
    expired["Signature-Input"] = headers["Signature-Input"] + f";expires={int(time.time()) - 60}"
    await a.send(g, "expires passed", "POST", TOPUP, data, expired)
    tampered = topup_body(amount_vnd=5_000_000)
    await a.send(g, "body changed after signing", "POST", TOPUP, tampered, headers,
                 expect=check_is(401, "content-digest"))  # fmt: skip
    undigested = {k: v for k, v in headers.items() if k.lower() != "content-digest"}
    await a.send(g, "digest removed", "POST", TOPUP, data, undigested, expect=check_is(401, "content-digest"))
    await a.send(g, "sent to another path", "POST", "/v1/fees/invoices", data, headers,
                 expect=check_is(401, "signature"))  # fmt: skip
    await a.send(g, "sent as another method", "PUT", "/v1/payees/holder-attack", data, headers)
    garbage = {**headers, "Signature-Input": "sig=(((", "Signature": "sig=:AAAA:"}
    await a.send(g, "garbage Signature-Input", "POST", TOPUP, data, garbage, expect=check_is(401, "signature-input"))
    two = {**headers, "Signature-Input": headers["Signature-Input"] + ', sig2=("@method");created=1;keyid="x"'}
    await a.send(g, "two signatures", "POST", TOPUP, data, two, expect=check_is(401, "signature-input"))
    weak = app.sign("POST", url, data, base_headers, components=("@authority",))
    await a.send(g, "method and path not covered", "POST", TOPUP, data, weak,
                 expect=check_is(401, "covered-components"))  # fmt: skip
    uncovered_key = app.sign("POST", url, data, base_headers, components=("@method", "@path", "content-digest"))
    await a.send(g, "Idempotency-Key not covered", "POST", TOPUP, data, uncovered_key,
                 expect=check_is(401, "covered-components"))  # fmt: skip
    await a.signed(g, "a role not allowed", world.roles[Role.AUDITOR], "POST", TOPUP, data, expect=status_is(403))
    await a.signed(g, "no Idempotency-Key", app, "POST", TOPUP, data, key=None, expect=status_is(400))
    await a.signed(g, "Idempotency-Key of spaces", app, "POST", TOPUP, data, key="   ", expect=status_is(400))
    await a.signed(g, "Idempotency-Key too long", app, "POST", TOPUP, data, key="k" * 300, expect=status_is(400))
    huge = {**headers, "Signature": "sig=:" + base64.b64encode(b"x" * 12_000).decode() + ":"}
    await a.send(g, "a 16 KB signature", "POST", TOPUP, data, huge, parser=True)
    # a genuine, acknowledged request captured and sent again
    assert world.genuine_purchase is not None
    purchase_url, purchase, signed = world.genuine_purchase
    path = purchase_url.removeprefix(a.base)
    await a.send(g, "genuine request replayed as it was", "POST", path, purchase, signed, expect=replayed)
    rekeyed = {**signed, "Idempotency-Key": f"replay-{uuid.uuid4()}"}
    await a.send(g, "genuine request replayed under another Idempotency-Key", "POST", path, purchase, rekeyed,
                 expect=check_is(401, "signature"))  # fmt: skip


def _amount_changed(request: SignedRequest) -> bytes:
    """The delivery with its first amount raised tenfold (after it was signed)."""
    text = request.body.decode()
    for pattern in (r'("amount":\s*)(\d+)', r'("transferAmount":\s*)(\d+)', r"(<Amt Ccy=\"VND\">)(\d+)"):
        changed, n = re.subn(pattern, lambda m: m.group(1) + str(int(m.group(2)) * 10), text)
        if n:
            return changed.encode()
    raise AssertionError("no amount found in the delivery")


def _delivery(provider: BankProvider, secret: bytes, at: datetime, tx: str = "FTFORGED") -> SignedRequest:
    """A notice of 40 000 VND to the agency's account, as ``provider`` sends it, signed with ``secret``."""
    if provider is BankProvider.PAYOS:
        return payos_request(
            payos_data(amount=40_000, description="x", reference=tx, at=at, account_no=AGENCY_ACCOUNT), secret
        )
    if provider is BankProvider.CASSO:
        return casso_request(
            casso_body(amount=40_000, description="x", reference=tx, at=at, account_no=AGENCY_ACCOUNT), secret, at
        )
    if provider is BankProvider.SEPAY:
        return sepay_request(
            sepay_body(amount=40_000, content="x", reference=tx, at=at, account_no=AGENCY_ACCOUNT), secret.decode()
        )
    xml = camt054([CamtCredit("40000", tx, "x")], booked=at.date(), account_no=AGENCY_ACCOUNT)
    return camt054_request(xml, secret, at)


async def webhook_attacks(a: Attacker, world: World) -> None:
    at = datetime.now(UTC)
    wrong = b"not-the-connector-secret-0123456789"
    for provider, genuine_request in world.genuine_webhooks.items():
        g = f"webhook:{provider.value}"
        path = f"/v1/banks/{provider.value}/notifications"
        forged = _delivery(provider, wrong, at)
        await a.send(g, "forged signature", "POST", path, forged.body, forged.headers, expect=status_is(401))
        unsigned_headers = {k: v for k, v in forged.headers.items() if k.lower() == "content-type"}
        body = forged.body
        if provider is BankProvider.PAYOS:
            document = json.loads(body)
            document.pop("signature")
            body = json.dumps(document).encode()
        await a.send(g, "unsigned", "POST", path, body, unsigned_headers, expect=status_is(401))
        if provider is not BankProvider.SEPAY:  # SePay signs no body: its API key is a bearer secret
            changed = _amount_changed(genuine_request)
            await a.send(g, "amount changed after signing", "POST", path, changed, genuine_request.headers,
                         expect=status_is(401))  # fmt: skip
        if provider in (BankProvider.CASSO, BankProvider.CAMT054):
            old = _delivery(provider, SECRETS[provider], at - timedelta(hours=2), "FTSTALE")
            await a.send(g, "stale signature time", "POST", path, old.body, old.headers, expect=status_is(401))
        if provider is BankProvider.SEPAY:
            old = _delivery(provider, SECRETS[provider], at - timedelta(days=5), "FTSTALE")
            await a.send(g, "transaction days old (a replay)", "POST", path, old.body, old.headers)
        genuine_copy = _delivery(provider, SECRETS[provider], at)
        await a.send(g, "to an unknown connector", "POST", f"/v1/banks/nobody-{provider.value}/notifications",
                     genuine_copy.body, genuine_copy.headers, expect=status_is(401))  # fmt: skip
        await a.send(g, "genuine delivery replayed", "POST", path, genuine_request.body, genuine_request.headers,
                     expect=replayed)  # fmt: skip


async def ticket_attacks(a: Attacker, world: World) -> None:
    device = world.roles[Role.DEVICE]
    g = "ticket"
    ticket_id = UUID(world.ticket_id)
    now = datetime.now(UTC).replace(microsecond=0)
    window = (now - timedelta(minutes=1), now + timedelta(days=1))

    def tap(code: str, vehicle: str = "bus-09-114", validator: str = VALIDATOR) -> bytes:
        return json.dumps({"code": code, "vehicle_id": vehicle, "validator_id": validator}).encode()

    forged = TicketSigner(1, Ed25519PrivateKey.generate()).sign(SignedTicket(ticket_id, TICKET_PRODUCT, *window))
    unknown = TicketSigner(77, Ed25519PrivateKey.generate()).sign(SignedTicket(ticket_id, TICKET_PRODUCT, *window))
    code = world.ticket_code
    tampered = code[:-3] + ("AAA" if code[-3:] != "AAA" else "BBB")
    validate = "/v1/tickets/validate"
    await a.signed(g, "another key under the real key id", device, "POST", validate, tap(forged),
                   expect=rejected_ticket("bad_signature"))  # fmt: skip
    await a.signed(g, "unknown key id", device, "POST", validate, tap(unknown), expect=rejected_ticket("unknown_key"))
    await a.signed(g, "tampered code", device, "POST", validate, tap(tampered),
                   expect=rejected_ticket("bad_signature", "malformed"))  # fmt: skip
    await a.signed(g, "not a code", device, "POST", validate, tap("CST1:not-a-ticket"),
                   expect=rejected_ticket("malformed"))  # fmt: skip
    await a.signed(g, "the single ride copied to another bus", device, "POST", validate, tap(code),
                   expect=rejected_ticket("already_used"))  # fmt: skip
    await a.signed(g, "a validator posting as another", device, "POST", validate, tap(code, validator="val-other"),
                   expect=status_is(403))  # fmt: skip
    await a.signed(g, "a code of 100 KB", device, "POST", validate, tap("CST1:" + "A" * 100_000))


def malformed_bodies() -> list[tuple[str, bytes]]:
    """Bodies a signed top-up request must refuse (each signed, so the body is what is judged)."""
    corpus: list[tuple[str, bytes]] = []

    def add(name: str, raw: str | bytes) -> None:
        corpus.append((name, raw.encode() if isinstance(raw, str) else raw))

    fields = '"purpose": "wallet_topup", "purpose_id": "holder-attack"'
    for name, amount in (
        ("amount as a string", '"50000"'),
        ("amount true", "true"),
        ("amount null", "null"),
        ("amount an object", '{"vnd": 50000}'),
        ("amount a list", "[50000]"),
        ("amount 2^63", str(2**63)),
        ("amount 2^64", str(2**64)),
        ("amount 10^30", "1" + "0" * 30),
        ("amount of 5000 digits", "9" * 5_000),
        ("amount 1e308", "1e308"),
        ("amount 1e999 (infinite)", "1e999"),
        ("amount NaN", "NaN"),
        ("amount Infinity", "Infinity"),
        ("amount negative", "-50000"),
        ("amount zero", "0"),
        ("amount -0", "-0"),
        ("amount float 50000.0", "50000.0"),
        ("amount float 50000.5", "50000.5"),
        ("amount 5e4", "5e4"),
        ("amount hex", "0xC350"),
        ("amount with leading zero", "050000"),
    ):
        add(name, f'{{{fields}, "amount_vnd": {amount}}}')
    for name, holder in (
        ("holder with an RTL override", "holder\u202eevil"),
        ("holder with a left-to-right isolate", "holder\u2066attack"),
        ("holder with a zero-width space", "holder\u200battack"),
        ("holder with a zero-width joiner", "holder\u200dattack"),
        ("holder with a soft hyphen", "holder\u00adattack"),
        ("holder with a BOM", "\ufeffholder-attack"),
        ("holder with NUL", "holder\u0000attack"),
        ("holder with a newline", "holder\nattack"),
        ("holder ending in a newline", "holder-attack\n"),
        ("holder with a C1 control", "holder\u0085attack"),
        ("holder of 10 000 characters", "h" * 10_000),
        ("holder empty", ""),
    ):
        add(name, json.dumps({"purpose": "wallet_topup", "purpose_id": holder, "amount_vnd": 50_000}))
    base = '{"purpose": "wallet_topup", "amount_vnd": 50000, "purpose_id": '
    add("holder with a lone surrogate escape", base + '"holder\\ud800"}')
    add("holder with an overlong UTF-8 '/'", base.encode() + b'"holder\xc0\xafx"}')
    add("holder with invalid UTF-8", base.encode() + b'"holder\xff\xfe"}')
    add("holder with a raw NUL byte", base.encode() + b'"holder\x00x"}')
    add("holder a number", base + "12345}")
    add("purpose with an RTL override", '{"purpose": "wallet_topup\u202e", "purpose_id": "h", "amount_vnd": 50000}')
    add("purpose of another case", '{"purpose": "WALLET_TOPUP", "purpose_id": "holder-attack", "amount_vnd": 50000}')
    add("an unknown field", f'{{{fields}, "amount_vnd": 50000, "admin": true}}')
    add("a field missing", f"{{{fields}}}")
    add("the body a list", f'[{{{fields}, "amount_vnd": 50000}}]')
    add("the body a string", '"wallet_topup"')
    add("the body null", "null")
    add("the body a number", "50000")
    add("the body an empty object", "{}")
    add("not JSON", "purpose=wallet_topup&amount_vnd=50000")
    add("truncated JSON", f'{{{fields}, "amount_vnd": 500')
    add("trailing garbage", f'{{{fields}, "amount_vnd": 50000}} {{}}')
    add("comments", f'{{{fields}, /* c */ "amount_vnd": 50000}}')
    add("single quotes", "{'purpose': 'wallet_topup', 'purpose_id': 'h', 'amount_vnd': 50000}")
    add("nested 100 000 deep (arrays)", "[" * NESTING + "]" * NESTING)
    add("nested 100 000 deep (objects)", '{"a":' * NESTING + "1" + "}" * NESTING)
    add("nested in a field", f'{{{fields}, "amount_vnd": ' + "[" * 10_000 + "]" * 10_000 + "}")
    topup = json.dumps({"purpose": "wallet_topup", "purpose_id": "h", "amount_vnd": 50000})
    add("UTF-16 encoded", topup.encode("utf-16"))
    add("2 MB body", f'{{{fields}, "amount_vnd": 50000, "pad": "' + "x" * 2_000_000 + '"}')
    return corpus


async def body_attacks(a: Attacker, world: World) -> None:
    app = world.signers.app
    for name, raw in malformed_bodies():
        await a.signed("body", name, app, "POST", TOPUP, raw)
    valid = topup_body()
    await a.signed("body", "text/plain", app, "POST", TOPUP, valid, content_type="text/plain", expect=status_is(415))
    await a.signed("body", "a body where none is taken", world.signers.terminal, "GET", "/v1/payees/stp-hn", valid)
    headers = app.sign("POST", a.base + TOPUP, valid, {"Content-Type": "application/json", "Idempotency-Key": "cl-1"})
    await a.send("body", "Content-Length larger than the limit", "POST", TOPUP, valid,
                 {**headers, "Content-Length": str(50_000_000)})  # fmt: skip


async def slow_attacks(a: Attacker, world: World) -> None:
    """The body, then the headers, trickled a byte a second: the service must close the
    connection (or refuse the request) within its read timeout, and write nothing."""
    host, port = a.base.removeprefix("http://").split(":")
    data = topup_body()
    signed = world.signers.app.sign(
        "POST", a.base + TOPUP, data, {"Content-Type": "application/json", "Idempotency-Key": f"slow-{uuid.uuid4()}"}
    )
    head = f"POST {TOPUP} HTTP/1.1\r\nHost: {host}:{port}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in signed.items())
    head += f"Content-Length: {len(data)}\r\n\r\n"
    await trickle(a, "body a byte a second", host, int(port), head.encode(), data)
    await trickle(a, "headers a byte a second", host, int(port), b"", head.encode() + data)


async def trickle(a: Attacker, name: str, host: str, port: int, at_once: bytes, slowly: bytes) -> None:
    bound_s = read_timeout_s() + SLOW_MARGIN_S
    before = await a.head()
    reader, writer = await asyncio.open_connection(host, port)
    started = time.monotonic()
    answer = b""
    try:
        writer.write(at_once)
        await writer.drain()
        for byte in slowly:
            if time.monotonic() - started > bound_s + 5:
                break
            try:
                answer = await asyncio.wait_for(reader.read(4096), SLOW_BYTE_EVERY_S)
            except TimeoutError:
                answer = b""
            else:
                break  # answered, or closed (an empty read)
            writer.write(bytes([byte]))
            await writer.drain()
    except (ConnectionError, OSError):
        answer = b""
    took = time.monotonic() - started
    writer.close()
    with contextlib.suppress(ConnectionError, OSError):
        await writer.wait_closed()
    status = int(answer.split()[1]) if answer.startswith(b"HTTP/1.") else None
    after = await a.head()
    problem = b"application/problem+json" in answer
    case = Case("slow", name, status, took, problem, after != before, answer[:200].decode(errors="replace"))
    a.cases.append(case)
    if case.moved:
        a.verdict.applied_twice += 1
        a.verdict.problems.append(f"slow/{name}: the store changed")
    if took > bound_s:
        a.verdict.problems.append(f"slow/{name}: the connection was still open after {took:.0f} s")
    if status is not None and not (400 <= status < 500 and problem):
        a.verdict.problems.append(f"slow/{name}: answered {answer[:200]!r}")


def concrete(route: Route) -> str:
    """The path with each parameter filled in ("0" where a parameter has a pattern: a hex id)."""
    patterned = {name for name, _ in route.patterns}
    return re.sub(r"{([^}]+)}", lambda m: "0" if m.group(1) in patterned else "x", route.path)


def allowed(status: int, _body: Any) -> str | None:
    return None if status not in (401, 403) and status < 500 else "an allowed role refused, or a 5xx"


async def role_walk(a: Attacker, world: World) -> None:
    """Every signed route x every role: a role the route does not allow gets 403 and
    changes nothing; an allowed role's read is not refused and gets no 5xx (an allowed
    write is left out: with an empty body it may be valid, and would rightly change the
    store); unsigned, every signed route is 401."""
    for route in (r for r in all_routes() if r.signed):
        path = concrete(route)
        data = b"{}" if route.request is not None else b""
        for role, signer in world.roles.items():
            permitted = role in route.roles
            if permitted and route.method != "GET":
                continue
            name = f"{route.method} {route.path} as {role.value}"
            await a.signed("roles", name, signer, route.method, path, data,
                           expect=allowed if permitted else status_is(403))  # fmt: skip
        headers = {"Content-Type": "application/json", "Idempotency-Key": "x"} if data else {}
        await a.send("roles", f"{route.method} {route.path} unsigned", route.method, path, data, headers,
                     expect=check_is(401, "signature-missing"))  # fmt: skip


ATTACKS: tuple[Callable[[Attacker, World], Awaitable[None]], ...] = (
    signature_attacks,
    webhook_attacks,
    ticket_attacks,
    body_attacks,
    slow_attacks,
    role_walk,
)


async def forgery_run(suite: str, store_url: str, folder: Path, workers: int, stories: int) -> Verdict:
    checkpoints, keyring = checkpoint_env(folder)
    world = await seed_world(store_url, folder)
    env = {
        **checkpoints,
        "CITYSETTLE_TICKET_KEY_FILE": str(world.ticket_key),
        "CITYSETTLE_READ_TIMEOUT_S": str(read_timeout_s()),
    }
    service = Service(store_url, workers, folder, env)
    service.start()
    history = History()
    verdict = Verdict(suite)
    store = await open_store(Config(store_url=store_url), create=False)
    try:
        await service.until_ready()
        async with aiohttp.ClientSession() as session:
            client = ReliableClient(session, service.base, history, Budget(attempts=20, seconds=30))
            workload = Workload(client, world.signers, seed=31)
            await genuine(workload, world, stories)
            assert not workload.unanswered, "a genuine operation was not answered by a healthy service"
            reader = Reader(session, service.base)
            await caught_up(reader, world.signers, store_url)
            attacker = Attacker(session, service.base, store, verdict)
            for attack in ATTACKS:
                await attack(attacker, world)
            model = build_model(history, workload.params, verdict)
            await caught_up(reader, world.signers, store_url)
            await check_api(reader, world.signers, model, verdict)
        assert service.stop() == 0, f"serve did not stop cleanly: {service.tail()}"
        check_log(history, workload.params, model, await read_log(store_url), verdict)
        await check_audit(store_url, keyring, verdict)
    finally:
        await store.close()
        if service.process is not None and service.process.poll() is None:
            service.kill_all()
    verdict.trials = len(attacker.cases)
    verdict.acknowledged = len([o for o in history.acknowledged() if o.kind != "setup"])
    verdict.attempts = history.attempts() + len(attacker.cases)
    groups: dict[str, dict[str, int]] = {}
    for case in attacker.cases:
        group = groups.setdefault(case.group.split(":")[0], {})
        answer = "closed" if case.status is None else str(case.status)
        group[answer] = group.get(answer, 0) + 1
    verdict.statuses = history.statuses()
    verdict.extra |= {
        "attacks": groups,
        "webhook_providers": sorted(p.value for p in world.genuine_webhooks),
        "slowest_refusal_s": round(max(c.took_s for c in attacker.cases if c.group != "slow"), 2),
        "slow_loris_cut_after_s": {c.name: round(c.took_s, 1) for c in attacker.cases if c.group == "slow"},
        "read_timeout_s": read_timeout_s(),
        "changed_the_store": sum(1 for c in attacker.cases if c.moved),
    }
    if 500 in verdict.statuses or any((c.status or 0) >= 500 for c in attacker.cases):
        verdict.problems.append(f"5xx answers (see {service.log})")
    return verdict
