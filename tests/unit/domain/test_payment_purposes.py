from __future__ import annotations

from domain.model.payments import PaymentPurpose
from domain.services.payment_purposes import ON_PAID


def test_every_payment_purpose_has_a_hand_over() -> None:
    assert set(ON_PAID) == set(PaymentPurpose)
