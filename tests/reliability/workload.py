"""The load of a reliability run: signed payments, bank notifications and parking sessions.

The world (clients, the PayOS connector, a lot with its tariffs) is written straight
into the store before the service starts; payees and the fee service are registered
over HTTP. Then ``lanes`` concurrent clients each repeat, until told to stop or their
count is reached, one of these stories, every step an `Operation` of the history:

- a fee: ``POST /v1/fees/invoices`` (terminal), then the citizen's transfer, as PayOS
  notifies it, for the invoice's payment reference; now and then that notice twice;
- a wallet top-up: ``POST /v1/payments`` (app, purpose ``wallet_topup``) and its
  transfer, notified by PayOS;
- a credit nobody asked for (no reference in the note): to suspense;
- a parking session: ``POST /v1/parking/sessions`` (terminal, a motorbike), then
  ``POST .../end`` paid in cash.
"""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.http.signing import RequestSigner
from adapters.secrets import SecretSealer
from domain.model.bank_connectors import BankProvider, SealedSecret
from domain.model.clients import Role
from domain.model.parking import Spaces, Tariff, VehicleClass
from domain.services.bank_connectors import register_bank_connector
from domain.services.parking import RegisterLot, ScheduleTariff, register_lot, schedule_tariff
from domain.services.unit_of_work import execute
from ops.config import Config
from ops.stores import open_store
from tests.reliability.client import ReliableClient
from tests.reliability.history import Operation
from tests.support.api import new_client
from tests.support.banks import payos_data, payos_request

BANK_BIN = "970436"
AGENCY_ACCOUNT = "0011004455667"
WALLETS_ACCOUNT = "0011004455668"
OPERATOR_ACCOUNT = ("970415", "1140000077")
AGENCY = "stp-hn"
OPERATOR = "op-hoankiem"
LOT = "HK-01"
SERVICE_CODE = "LLTP-01"
FEE_VND = 200_000
PAYOS_SECRET = b"payos-reliability-secret-0123456789"
MOTO_TARIFF = {
    "code": "moto-2025",
    "vehicle_class": "motorbike",
    "unit_minutes": 1440,
    "bands": [{"name": "all-day", "starts_at": "00:00", "steps": [{"from_hour": 1, "unit_vnd": 5_000}]}],
}


def _account(account_no: str, name: str, bank_bin: str = BANK_BIN) -> dict[str, str]:
    return {"bank_bin": bank_bin, "account_no": account_no, "account_name": name}


PAYEES: dict[str, dict[str, Any]] = {
    AGENCY: {"name": "So Tu phap Ha Noi", "kind": "agency", "collection_account": _account(AGENCY_ACCOUNT, "STP")},
    "wallets": {
        "name": "Vi dien tu",
        "kind": "transport_operator",
        "collection_account": _account(WALLETS_ACCOUNT, "VI DIEN TU"),
    },
    OPERATOR: {
        "name": "Hoan Kiem parking",
        "kind": "parking_operator",
        "collection_account": _account(OPERATOR_ACCOUNT[1], "HA NOI PARKING", OPERATOR_ACCOUNT[0]),
    },
}
SERVICE = {
    "name": "Cap phieu ly lich tu phap",
    "payee_id": AGENCY,
    "amount_vnd": FEE_VND,
    "legal_basis": "Thong tu 244/2016/TT-BTC",
    "subsidies": [],
}


@dataclass(frozen=True)
class Signers:
    admin: RequestSigner
    terminal: RequestSigner
    app: RequestSigner
    finance: RequestSigner


async def seed_store(store_url: str) -> Signers:
    """Clients, the PayOS connector, the lot and its tariff, straight in the store (which
    this creates); the service is not running yet."""
    store = await open_store(Config(store_url=store_url))
    try:
        since = datetime.now(UTC) - timedelta(days=1)
        sealed = SealedSecret(SecretSealer(None).seal(PAYOS_SECRET))
        await execute(store, register_bank_connector("payos", BankProvider.PAYOS, sealed, since))
        zones = {"A": {VehicleClass.MOTORBIKE: Spaces(100_000)}}
        await execute(store, register_lot(RegisterLot(LOT, OPERATOR, "Ly Thai To", zones, since)))
        tariff = Tariff.from_dict(MOTO_TARIFF)
        await execute(store, schedule_tariff(ScheduleTariff(LOT, "A", tariff, since, since)))
        roles = (Role.ADMIN, Role.TERMINAL, Role.APP, Role.FINANCE)
        admin, terminal, app, finance = [await new_client(store, role) for role in roles]
    finally:
        await store.close()
    return Signers(admin, terminal, app, finance)


@dataclass
class Workload:
    client: ReliableClient
    signers: Signers
    seed: int = 1
    counter: int = 0
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    unanswered: list[tuple[Operation, RequestSigner | None, bytes]] = field(default_factory=list)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # what the model needs of an operation

    def _op(self, kind: str, method: str, path: str, keyed: bool = True) -> Operation:
        self.counter += 1
        op_id = f"op{self.counter:06d}"
        key = f"rel-{self.seed}-{op_id}" if keyed else None
        return self.client.history.new(op_id, kind, method, path, key)

    async def _send(
        self, operation: Operation, signer: RequestSigner | None, body: Any = None, raw: bytes | None = None
    ) -> dict[str, Any] | None:
        """The acknowledged answer's body, or None (refused, or not answered in budget)."""
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        answer = await self.client.send(operation, signer, raw=data)
        if answer is None:
            self.unanswered.append((operation, signer, data))
            return None
        if answer.status is not None and 200 <= answer.status < 300:
            return answer.body if isinstance(answer.body, dict) else {}
        return None

    async def register_payees(self) -> None:
        """Payees and the fee service over HTTP (before the faults start)."""
        for payee_id, body in PAYEES.items():
            done = await self._send(self._op("setup", "PUT", f"/v1/payees/{payee_id}"), self.signers.admin, body)
            assert done is not None, f"payee {payee_id} not registered: {self.client.history.operations[-1]}"
        put = self._op("setup", "PUT", f"/v1/fees/services/{SERVICE_CODE}")
        assert await self._send(put, self.signers.admin, SERVICE) is not None, "fee service not published"

    # -- the stories ----------------------------------------------------------------

    async def fee(self, rng: random.Random) -> None:
        invoice = await self.issue_invoice()
        if invoice is None or self.stop.is_set():
            return
        first = await self.pay(invoice["payment"])
        if rng.random() < 0.2 and not self.stop.is_set():  # the bank delivers its notice again
            again = self._op("credit", "POST", first.path, keyed=False)
            self.params[again.op_id] = dict(self.params[first.op_id])
            await self._send(again, None, raw=self.params[again.op_id]["raw"])

    async def topup(self, rng: random.Random) -> None:
        payment = await self.ask_topup(f"holder-{self.counter + 1:06d}", rng.randrange(10_000, 500_001, 1_000))
        if payment is None or self.stop.is_set():
            return
        await self.pay(payment)

    async def issue_invoice(self) -> dict[str, Any] | None:
        issue = self._op("invoice", "POST", "/v1/fees/invoices")
        body = {"service_code": SERVICE_CODE, "payer": {"name": f"Payer {issue.op_id}"}, "channel": "counter"}
        return await self._send(issue, self.signers.terminal, body)

    async def ask_topup(self, holder: str, amount_vnd: int) -> dict[str, Any] | None:
        ask = self._op("topup", "POST", "/v1/payments")
        self.params[ask.op_id] = {"holder": holder, "amount_vnd": amount_vnd}
        body = {"purpose": "wallet_topup", "purpose_id": holder, "amount_vnd": amount_vnd}
        return await self._send(ask, self.signers.app, body)

    async def pay(self, payment: dict[str, Any]) -> Operation:
        """The citizen's transfer of exactly what the payment asks, notified by PayOS."""
        note = f"MBVCB.1.{payment['reference']}.CT"
        return await self.credit(payment["account_no"], payment["amount_vnd"], note, payment["reference"])

    async def stray_credit(self, rng: random.Random) -> None:
        await self.credit(AGENCY_ACCOUNT, rng.randrange(1_000, 100_001, 1_000), "chuyen tien an trua")

    async def credit(self, account_no: str, amount_vnd: int, note: str, reference: str | None = None) -> Operation:
        operation = self._op("credit", "POST", "/v1/banks/payos/notifications", keyed=False)
        tx = f"FT{self.seed}{operation.op_id.upper()}"
        data = payos_data(
            amount=amount_vnd, description=note, reference=tx, at=datetime.now(UTC), account_no=account_no
        )
        raw = payos_request(data, PAYOS_SECRET).body
        self.params[operation.op_id] = {"account_no": account_no, "tx": tx, "amount_vnd": amount_vnd, "raw": raw}
        self.params[operation.op_id]["reference"] = reference
        await self._send(operation, None, raw=raw)
        return operation

    async def parking(self, rng: random.Random) -> None:
        session = await self.start_session()
        if session is None or self.stop.is_set():
            return
        await self.end_session(session["session_id"])

    async def start_session(self) -> dict[str, Any] | None:
        start = self._op("session_start", "POST", "/v1/parking/sessions")
        n = self.counter
        plate = f"29B{n // 100_000 % 10}-{n // 100 % 1_000:03d}.{n % 100:02d}"  # one plate per session
        self.params[start.op_id] = {"plate": plate}
        body = {"lot_code": LOT, "reference": start.op_id, "zone": "A", "vehicle_class": "motorbike", "plate": plate}
        return await self._send(start, self.signers.terminal, body)

    async def end_session(self, session_id: str) -> dict[str, Any] | None:
        """In cash; each call is its own request (its own Idempotency-Key)."""
        end = self._op("session_end", "POST", f"/v1/parking/sessions/{session_id}/end")
        self.params[end.op_id] = {"session_id": session_id}
        return await self._send(end, self.signers.terminal, {"payment_method": "cash"})

    async def contend(self, writers: int) -> int:
        """``writers`` concurrent writers on each of one wallet, one payment and one parking
        session; the number of targets. The wallet: that many top-ups of one holder, asked
        and paid at once (each payment's credit records its top-up on the one wallet). The
        payment: that many transfers of its reference at once (one pays it, the others
        overpay it: refunds). The session: that many ends at once (one ends it, the others
        are refused)."""
        holder = f"holder-shared-{self.seed}"
        asked = await asyncio.gather(*(self.ask_topup(holder, 10_000 + 1_000 * i) for i in range(writers)))
        await asyncio.gather(*(self.pay(payment) for payment in asked if payment is not None))
        invoice = await self.issue_invoice()
        assert invoice is not None, "the contended invoice was not issued"
        await asyncio.gather(*(self.pay(invoice["payment"]) for _ in range(writers)))
        session = await self.start_session()
        assert session is not None, "the contended session was not started"
        await asyncio.gather(*(self.end_session(session["session_id"]) for _ in range(writers)))
        return 3

    # -- running it -----------------------------------------------------------------

    async def lane(self, index: int, stories: int) -> None:
        rng = random.Random(self.seed * 1_000 + index)
        choices = (self.fee, self.fee, self.topup, self.parking, self.parking, self.stray_credit)
        for _ in range(stories):
            if self.stop.is_set():
                return
            await rng.choice(choices)(rng)

    async def run(self, lanes: int, stories: int) -> None:
        await asyncio.gather(*(self.lane(i, stories) for i in range(lanes)))

    async def settle_unanswered(self) -> None:
        """Ask again, with the same key or body, about every operation left unanswered:
        the answer says whether it was applied (replayed) or is applied now, once."""
        self.client.stopping = False
        waiting, self.unanswered = self.unanswered, []
        for operation, signer, data in waiting:
            answer = await self.client.send(operation, signer, raw=data)
            assert answer is not None, f"{operation.op_id} still unanswered once the service is back"
