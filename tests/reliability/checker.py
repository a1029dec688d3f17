"""After a run: the reference model replays the acknowledged operations, and the
service's final state must be the model's.

Three views of the final state are compared with the model:

- the API (what clients and finance read): every payment's, invoice's and session's
  status, every ledger account's posted debits and credits, every wallet's balance,
  once the live projections have caught up with the log;
- the log itself, read from the store: each acknowledged operation's effect is there
  exactly once (an invoice per payer, a top-up per holder, a session per plate, a bank
  credit per transaction id, one credit per payment, one end per session), nothing is
  there that no operation caused, the ledger's transfers balance and sum, per account,
  to the model's;
- the auditor's checks on the stopped service: ``citysettle audit verify`` (the hash
  chain and the signed checkpoints) and ``citysettle audit replay`` (every projection
  rebuilt from the log equals the live one).
"""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from adapters.eventstore.checkpoints import KeyRing
from adapters.http.signing import RequestSigner
from domain.model.bank_transactions import BankTransaction
from domain.model.fees import FeeInvoice
from domain.model.parking.sessions import ParkingSession
from domain.model.payments import BankCredit, Payment
from domain.model.transfers import Hold, Transfer
from ops.cli.audit import replay_projections, verify
from ops.config import Config
from ops.stores import open_store
from tests.reliability.history import History, Operation
from tests.reliability.model import ModelPayment, ReferenceModel, clearing
from tests.reliability.workload import AGENCY, AGENCY_ACCOUNT, BANK_BIN, FEE_VND, OPERATOR, WALLETS_ACCOUNT, Signers

LOG_PAGE = 5_000


@dataclass
class Verdict:
    suite: str
    trials: int = 0
    acknowledged: int = 0
    lost: int = 0
    applied_twice: int = 0
    imbalance_vnd: int = 0
    verify_ok: bool = False
    replay_ok: bool = False
    recovery_s: float | None = None
    attempts: int = 0
    timeouts: int = 0
    unreachable: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems and self.verify_ok and self.replay_ok

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "trials": self.trials,
            "acknowledged": self.acknowledged,
            "lost": self.lost,
            "applied_twice": self.applied_twice,
            "imbalance_vnd": self.imbalance_vnd,
            "verify_ok": self.verify_ok,
            "replay_ok": self.replay_ok,
        }
        if self.recovery_s is not None:
            out["recovery_s"] = round(self.recovery_s, 2)
        out |= {
            "attempts": self.attempts,
            "timeouts": self.timeouts,
            "unreachable": self.unreachable,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "problems": self.problems[:20],
        }
        return out | self.extra


def build_model(history: History, params: dict[str, dict[str, Any]], verdict: Verdict) -> ReferenceModel:
    """Replay the acknowledged operations, in the order they were acknowledged."""
    model = ReferenceModel()
    acknowledged = sorted(history.acknowledged(), key=lambda o: o.acknowledged.ended if o.acknowledged else 0)
    for operation in acknowledged:
        answer = operation.acknowledged
        assert answer is not None
        body: dict[str, Any] = answer.body if isinstance(answer.body, dict) else {}
        p = params.get(operation.op_id, {})
        if operation.kind == "invoice":
            payment = body["payment"]
            if (body["amount_vnd"], payment["amount_vnd"], payment["account_no"]) != (
                FEE_VND,
                FEE_VND,
                AGENCY_ACCOUNT,
            ):
                verdict.problems.append(f"{operation.op_id}: invoice answered {body}")
            model.invoice_issued(
                body["invoice_no"],
                ModelPayment(
                    payment["id"],
                    payment["reference"],
                    FEE_VND,
                    clearing(BANK_BIN, AGENCY_ACCOUNT),
                    f"payable:agency:{AGENCY}",
                ),
            )
        elif operation.kind == "topup":
            if (body["amount_vnd"], body["account_no"]) != (p["amount_vnd"], WALLETS_ACCOUNT):
                verdict.problems.append(f"{operation.op_id}: top-up answered {body}")
            model.topup_requested(
                ModelPayment(
                    body["id"],
                    body["reference"],
                    p["amount_vnd"],
                    clearing(BANK_BIN, WALLETS_ACCOUNT),
                    f"wallet:{p['holder']}",
                )
            )
        elif operation.kind == "credit":
            model.bank_credit(BANK_BIN, p["account_no"], p["tx"], p["amount_vnd"], p["reference"])
        elif operation.kind == "ticket":
            if body.get("paid_vnd") != p["price_vnd"]:
                verdict.problems.append(f"{operation.op_id}: ticket answered {body}")
            model.ticket_bought(p["holder"], p["price_vnd"], p["operator"])
        elif operation.kind == "session_start":
            model.session_started(body["session_id"])
        elif operation.kind == "session_end":
            expected = model.session_ended_in_cash(p["session_id"], OPERATOR)
            if expected is None:
                verdict.applied_twice += 1
                verdict.problems.append(f"{operation.op_id}: session {p['session_id']} ended again")
            elif body.get("fee_vnd") != expected:
                verdict.problems.append(f"{operation.op_id}: session ended with fee {body.get('fee_vnd')}")
    return model


@dataclass
class Reader:
    """Plain signed GETs against the running service."""

    session: aiohttp.ClientSession
    base: str

    async def get(self, signer: RequestSigner, path: str) -> tuple[int, Any]:
        url = self.base + path
        for _ in range(50):
            try:
                async with self.session.get(url, headers=signer.sign("GET", url)) as response:
                    if response.status < 500:
                        return response.status, await response.json(content_type=None)
            except (aiohttp.ClientError, OSError):
                pass
            await asyncio.sleep(0.2)
        raise AssertionError(f"GET {path} kept failing")


async def caught_up(reader: Reader, signers: Signers, store_url: str, seconds: float = 60.0) -> None:
    """Wait until the live projections have applied the whole log."""
    ends = time.monotonic() + seconds
    head = await _head(store_url)
    while time.monotonic() < ends:
        _, account = await reader.get(signers.finance, "/v1/ledger/accounts/suspense")
        if account.get("as_of_position", -1) >= head:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"projections did not reach position {head} in {seconds} s")


async def _head(store_url: str) -> int:
    store = await open_store(Config(store_url=store_url), create=False)
    try:
        return (await store.head()).position
    finally:
        await store.close()


async def check_api(reader: Reader, signers: Signers, model: ReferenceModel, verdict: Verdict) -> None:
    for payment in model.payments.values():
        _, seen = await reader.get(signers.terminal, f"/v1/payments/{payment.payment_id}")
        if seen.get("status") != payment.status:
            verdict.problems.append(f"payment {payment.payment_id}: API {seen.get('status')}, model {payment.status}")
    for invoice_no, status in model.invoices.items():
        _, seen = await reader.get(signers.terminal, f"/v1/fees/invoices/{invoice_no}")
        if seen.get("status") != status:
            verdict.problems.append(f"invoice {invoice_no}: API {seen.get('status')}, model {status}")
    for session in model.sessions.values():
        _, seen = await reader.get(signers.terminal, f"/v1/parking/sessions/{session.session_id}")
        if (seen.get("status"), seen.get("fee_vnd")) != (session.status, session.fee_vnd):
            verdict.problems.append(f"session {session.session_id}: API {seen}, model {session}")
    for account in model.accounts():
        _, seen = await reader.get(signers.finance, f"/v1/ledger/accounts/{account}")
        got = (seen.get("debits_vnd"), seen.get("credits_vnd"))
        if got != (model.debits[account], model.credits[account]):
            verdict.problems.append(
                f"account {account}: API debits/credits {got}, model {model.debits[account], model.credits[account]}"
            )
    for holder, balance in model.wallets.items():
        _, seen = await reader.get(signers.app, f"/v1/wallets/{holder}")
        if seen.get("balance_vnd") != balance:
            verdict.problems.append(f"wallet {holder}: API {seen.get('balance_vnd')}, model {balance}")


@dataclass
class LogFacts:
    invoices_by_payer: Counter[str] = field(default_factory=Counter)
    topups_by_holder: Counter[str] = field(default_factory=Counter)
    sessions_by_plate: Counter[str] = field(default_factory=Counter)
    credits_by_tx: Counter[str] = field(default_factory=Counter)
    transactions_by_tx: Counter[str] = field(default_factory=Counter)
    credited_payments: Counter[str] = field(default_factory=Counter)
    ended_sessions: Counter[str] = field(default_factory=Counter)
    debits: Counter[str] = field(default_factory=Counter)
    credits: Counter[str] = field(default_factory=Counter)
    holds: int = 0
    events: int = 0


async def read_log(store_url: str) -> LogFacts:
    facts = LogFacts()
    store = await open_store(Config(store_url=store_url), create=False)
    try:
        after = 0
        while records := await store.read_log(after, LOG_PAGE):
            after = records[-1].position
            for record in records:
                facts.events += 1
                _note(facts, store.decode(record))
    finally:
        await store.close()
    return facts


def _note(facts: LogFacts, event: Any) -> None:
    if isinstance(event, FeeInvoice.Issued):
        facts.invoices_by_payer[event.payer_id] += 1
    elif isinstance(event, Payment.Created) and event.purpose == "wallet_topup":
        facts.topups_by_holder[f"{event.purpose_id}/{event.amount_vnd}"] += 1
    elif isinstance(event, Payment.Credited):
        facts.credited_payments[str(event.originator_id)] += 1
    elif isinstance(event, ParkingSession.Started):
        facts.sessions_by_plate[event.plate] += 1
    elif isinstance(event, ParkingSession.Ended):
        facts.ended_sessions[str(event.originator_id)] += 1
    elif isinstance(event, BankCredit.Received):
        facts.credits_by_tx[event.bank_tx_id] += 1
    elif isinstance(event, BankTransaction.FirstCredited):
        facts.transactions_by_tx[event.bank_tx_id] += 1
    elif isinstance(event, Transfer.Posted):
        for entry in event.entries:
            side = facts.debits if entry["side"] == "debit" else facts.credits
            side[entry["account"]] += entry["amount_vnd"]
    elif isinstance(event, Hold.Placed | Hold.Posted):
        facts.holds += 1


def check_log(
    history: History, params: dict[str, dict[str, Any]], model: ReferenceModel, facts: LogFacts, verdict: Verdict
) -> None:
    """Each acknowledged operation's effect once; nothing no operation caused; the sums."""
    expected: dict[str, Counter[str]] = {
        "invoice": Counter(),
        "topup": Counter(),
        "session_start": Counter(),
        "credit": Counter(),
    }
    for operation in history.acknowledged():
        tag = _tag(operation, params)
        if tag is not None:
            expected[operation.kind][tag] = 1
    logged = {
        "invoice": facts.invoices_by_payer,
        "topup": facts.topups_by_holder,
        "session_start": facts.sessions_by_plate,
        "credit": facts.credits_by_tx,
    }
    refused = {_tag(o, params) for o in history.operations if o.acknowledged is None}
    for kind, wanted in expected.items():
        for tag in wanted:
            count = logged[kind][tag]
            if count == 0:
                verdict.lost += 1
                verdict.problems.append(f"{kind} {tag}: acknowledged, not in the log")
            elif count > 1:
                verdict.applied_twice += 1
                verdict.problems.append(f"{kind} {tag}: {count} times in the log")
        for tag, count in logged[kind].items():
            if tag not in wanted:
                why = "refused, yet" if tag in refused else "no operation asked for it, yet"
                verdict.problems.append(f"{kind} {tag}: {why} {count} time(s) in the log")
    for tx, count in facts.transactions_by_tx.items():
        if count > 1:
            verdict.applied_twice += 1
            verdict.problems.append(f"bank transaction {tx}: first credited {count} times")
    for payment_id in sorted(set(facts.credited_payments) | set(model.payment_credits)):
        logged_count, acknowledged = facts.credited_payments[payment_id], model.payment_credits[payment_id]
        if logged_count != acknowledged:
            verdict.problems.append(f"payment {payment_id}: credited {logged_count} times, acknowledged {acknowledged}")
        if logged_count > acknowledged:
            verdict.applied_twice += logged_count - acknowledged
        else:
            verdict.lost += acknowledged - logged_count
    for session_id, count in facts.ended_sessions.items():
        if count > 1:
            verdict.applied_twice += 1
            verdict.problems.append(f"session {session_id}: ended {count} times")
    ended = {s.session_id for s in model.sessions.values() if s.status == "ended"}
    for session_id in ended - set(facts.ended_sessions):
        verdict.lost += 1
        verdict.problems.append(f"session {session_id}: acknowledged as ended, not ended in the log")
    if facts.holds:
        verdict.problems.append(f"{facts.holds} hold events, which this workload never asks for")
    verdict.imbalance_vnd = sum(facts.debits.values()) - sum(facts.credits.values())
    if verdict.imbalance_vnd or model.imbalance_vnd():
        verdict.problems.append(f"ledger imbalance: log {verdict.imbalance_vnd}, model {model.imbalance_vnd()} VND")
    for account in sorted(set(model.accounts()) | set(facts.debits) | set(facts.credits)):
        logged_sides = (facts.debits[account], facts.credits[account])
        modelled = (model.debits[account], model.credits[account])
        if logged_sides != modelled:
            verdict.problems.append(f"account {account}: log debits/credits {logged_sides}, model {modelled}")


def _tag(operation: Operation, params: dict[str, dict[str, Any]]) -> str | None:
    """What names the operation's effect in the log."""
    p = params.get(operation.op_id, {})
    if operation.kind == "invoice":
        return f"Payer {operation.op_id}"
    if operation.kind == "topup":
        return f"{p['holder']}/{p['amount_vnd']}"
    if operation.kind == "credit":
        return str(p["tx"])
    if operation.kind == "session_start":
        return str(p["plate"])
    return None


async def check_audit(store_url: str, keyring: Path | None, verdict: Verdict) -> None:
    """``audit verify`` and ``audit replay`` on the stopped service: the commands' own
    functions (`ops.cli.audit`), in this process to spare two interpreter starts."""
    out = io.StringIO()
    ring = KeyRing.from_json_file(keyring) if keyring is not None else None
    code = await verify(Config(store_url=store_url), out, ring)
    verdict.verify_ok = code == 0
    verdict.extra["verify"] = json.loads(out.getvalue().splitlines()[-1])
    if not verdict.verify_ok:
        verdict.problems.append(f"audit verify: exit {code}: {out.getvalue()}")
    out = io.StringIO()
    code = await replay_projections(Config(store_url=store_url), out)
    verdict.replay_ok = code == 0 and json.loads(out.getvalue())["status"] == "identical"
    if not verdict.replay_ok:
        verdict.problems.append(f"audit replay: exit {code}: {out.getvalue()}")
