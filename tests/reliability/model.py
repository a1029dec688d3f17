"""The reference model: a plain-Python ledger and payment state machine.

It knows nothing of the service's code. It is fed the acknowledged operations of a run
(what the clients were told happened) and says what the service's final state must be:
each payment's status, each invoice's and parking session's, and every ledger
account's posted debits and credits. Its rules are the API's documented ones:

- an invoice of the catalogue's service (no subsidy) creates a pending payment of the
  service's amount into the agency's collection account; a wallet top-up, a pending
  payment of the amount asked into the wallets payee's account;
- a bank credit is identified by (BIN, account, transaction id): the first notice of
  it debits the account's clearing account; with the reference of a pending payment
  and exactly its amount it pays it (credit: the agency's payable, or the holder's
  wallet); with the reference of a payment already paid it overpays it (the whole
  amount is owed back: refunds); without a reference of ours, to suspense; the same
  notice again changes nothing;
- a ticket bought from a wallet moves its price from the wallet to the operator's
  payable;
- a motorbike session of less than a day ended in cash costs one day's unit: cash
  (debit) to the operator's payable (credit).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

MOTORBIKE_DAY_VND = 5_000


def clearing(bank_bin: str, account_no: str) -> str:
    return f"bank:{bank_bin}:{account_no}"


@dataclass
class ModelPayment:
    payment_id: str
    reference: str
    amount_vnd: int
    clearing_account: str
    credit_account: str  # where its money goes once paid
    status: str = "pending"


@dataclass
class ModelSession:
    session_id: str
    status: str = "active"
    fee_vnd: int = 0  # what the API shows for a session not yet ended


@dataclass
class ReferenceModel:
    debits: Counter[str] = field(default_factory=Counter)
    credits: Counter[str] = field(default_factory=Counter)
    payments: dict[str, ModelPayment] = field(default_factory=dict)
    invoices: dict[str, str] = field(default_factory=dict)  # invoice_no -> status
    invoice_payment: dict[str, str] = field(default_factory=dict)  # invoice_no -> payment id
    sessions: dict[str, ModelSession] = field(default_factory=dict)
    bank_credits: dict[tuple[str, str, str], int] = field(default_factory=dict)
    payment_credits: Counter[str] = field(default_factory=Counter)  # payment id -> credits it took
    wallets: Counter[str] = field(default_factory=Counter)

    def _post(self, debit: str, credit: str, amount_vnd: int) -> None:
        assert isinstance(amount_vnd, int)
        assert amount_vnd > 0
        self.debits[debit] += amount_vnd
        self.credits[credit] += amount_vnd

    def invoice_issued(self, invoice_no: str, payment: ModelPayment) -> None:
        assert invoice_no not in self.invoices, f"invoice {invoice_no} issued twice in the model"
        self.invoices[invoice_no] = "issued"
        self.invoice_payment[invoice_no] = payment.payment_id
        self._new_payment(payment)

    def topup_requested(self, payment: ModelPayment) -> None:
        self._new_payment(payment)

    def _new_payment(self, payment: ModelPayment) -> None:
        assert payment.payment_id not in self.payments, f"payment {payment.payment_id} created twice"
        self.payments[payment.payment_id] = payment

    def bank_credit(self, bank_bin: str, account_no: str, tx_id: str, amount_vnd: int, reference: str | None) -> str:
        """The outcome: ``paid``, ``overpaid``, ``suspense`` or ``duplicate``."""
        identity = (bank_bin, account_no, tx_id)
        if identity in self.bank_credits:
            assert self.bank_credits[identity] == amount_vnd, "the workload repeats notices unchanged"
            return "duplicate"
        self.bank_credits[identity] = amount_vnd
        account = clearing(bank_bin, account_no)
        payment = next((p for p in self.payments.values() if p.reference == reference), None)
        if payment is None or payment.clearing_account != account:
            self._post(account, "suspense", amount_vnd)
            return "suspense"
        # the workload pays exactly what a payment asks, before it expires
        assert payment.amount_vnd == amount_vnd, "partial and overpaying transfers are not modelled"
        self.payment_credits[payment.payment_id] += 1
        if payment.status == "paid":
            self._post(account, "refunds", amount_vnd)
            return "overpaid"
        payment.status = "paid"
        self._post(account, payment.credit_account, amount_vnd)
        if payment.credit_account.startswith("wallet:"):
            self.wallets[payment.credit_account.removeprefix("wallet:")] += amount_vnd
        for invoice_no, payment_id in self.invoice_payment.items():
            if payment_id == payment.payment_id:
                self.invoices[invoice_no] = "paid"
        return "paid"

    def session_started(self, session_id: str) -> None:
        assert session_id not in self.sessions, f"session {session_id} started twice"
        self.sessions[session_id] = ModelSession(session_id)

    def session_ended_in_cash(self, session_id: str, operator_id: str) -> int | None:
        """The fee the model expects (a motorbike, less than a day); None when the session
        had already ended (an end acknowledged twice)."""
        session = self.sessions[session_id]
        if session.status != "active":
            return None
        session.status, session.fee_vnd = "ended", MOTORBIKE_DAY_VND
        self._post(f"cash:{operator_id}", f"payable:operator:{operator_id}", MOTORBIKE_DAY_VND)
        return MOTORBIKE_DAY_VND

    def ticket_bought(self, holder: str, price_vnd: int, operator_id: str) -> None:
        """A ticket bought from a wallet: the price from the holder's wallet to the operator."""
        self._post(f"wallet:{holder}", f"payable:operator:{operator_id}", price_vnd)
        self.wallets[holder] -= price_vnd

    def accounts(self) -> list[str]:
        return sorted(set(self.debits) | set(self.credits))

    def imbalance_vnd(self) -> int:
        return sum(self.debits.values()) - sum(self.credits.values())
