"""Who takes over when a payment is paid: one hand-over per payment purpose.

`credit_bank_transfer` runs the hand-over inside the same unit of work as the credit,
so a paid fee invoice, parking session, ticket or wallet top-up changes together with
the money.
"""

from __future__ import annotations

from collections.abc import Mapping

from domain.model.payments import PaymentPurpose
from domain.services.fees import settle_invoice_on_payment
from domain.services.parking_payments import on_parking_session_paid
from domain.services.payments import PaidHandler
from domain.services.tickets import on_ticket_paid
from domain.services.wallets import on_wallet_topup_paid

ON_PAID: Mapping[PaymentPurpose, PaidHandler] = {
    PaymentPurpose.FEE_INVOICE: settle_invoice_on_payment,
    PaymentPurpose.PARKING_SESSION: on_parking_session_paid,
    PaymentPurpose.TICKET: on_ticket_paid,
    PaymentPurpose.WALLET_TOPUP: on_wallet_topup_paid,
}
