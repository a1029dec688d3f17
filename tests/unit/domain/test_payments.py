from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.eventstore.codec import CodecOptions, build_mapper
from domain.model.bank_transactions import BankTransaction
from domain.model.errors import InvalidTransition, InvalidValue
from domain.model.ledger import PartyKind, payable
from domain.model.payments import (
    BankCredit,
    Counterparty,
    CreditOutcome,
    Payment,
    PaymentPurpose,
    PaymentStatus,
    payment_id,
)
from domain.model.references import (
    REFERENCE_LENGTH,
    find_reference,
    legacy_reference,
    make_reference,
    valid_reference,
)
from tests.support.payments import as_stored_v1

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
EXPIRY = T0 + timedelta(minutes=15)
DELAY = timedelta(minutes=10)


def payment(amount_vnd: int = 50_000, request_id: UUID | None = None) -> Payment:
    request_id = request_id or uuid4()
    return Payment.create(
        reference=make_reference(request_id),
        request_id=request_id,
        amount_vnd=amount_vnd,
        payee_account=payable(PartyKind.AGENCY, "so-tu-phap"),
        purpose=PaymentPurpose.FEE_INVOICE,
        purpose_id="inv-1",
        bank_bin="970436",
        account_no="0011004455667",
        at=T0,
        expires_at=T0 + timedelta(minutes=15),
    )


@given(st.uuids())
def test_every_reference_is_valid_and_short(request_id: UUID) -> None:
    reference = make_reference(request_id)
    assert len(reference) == REFERENCE_LENGTH <= 25
    assert valid_reference(reference)
    assert reference.isalnum()
    assert reference.isupper()


def body_bits(reference: str) -> int:
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    value = 0
    for c in reference[2:-1]:
        value = value * 32 + alphabet.index(c)
    return value


def test_every_bit_of_a_reference_varies_also_for_name_based_request_ids() -> None:
    # Request ids are mostly uuid5 (invoice ids, parking attempts): their version and
    # variant bits are fixed and must not reach the reference.
    seen_one, seen_zero = 0, 0
    for i in range(512):
        value = body_bits(make_reference(uuid5(NAMESPACE_URL, f"invoice/{i}")))
        seen_one |= value
        seen_zero |= ~value
    assert seen_one == seen_zero & (2**65 - 1) == 2**65 - 1


def test_attempts_give_other_references() -> None:
    request = uuid4()
    assert len({make_reference(request, attempt) for attempt in range(8)}) == 8
    assert make_reference(request) == make_reference(request, 0)


def test_a_reference_of_the_first_scheme_stays_readable() -> None:
    stored = "CSDWE2WJMV7NE7XJ"  # made by the first scheme for this request id
    assert legacy_reference(UUID("6f1c2e4a-9b3d-5c7e-8f10-2a4b6c8d0e1f")) == stored
    assert valid_reference(stored)
    assert find_reference(f"MBVCB.998.{stored[:6]}-{stored[6:]}.le phi") == stored


@given(st.uuids(), st.data())
def test_a_mistyped_character_is_caught(request_id: UUID, data: st.DataObject) -> None:
    reference = make_reference(request_id)
    i = data.draw(st.integers(2, REFERENCE_LENGTH - 1))
    replacement = data.draw(st.sampled_from("0123456789ABCDEFGHJKMNPQRSTVWXYZ").filter(lambda c: c != reference[i]))
    assert not valid_reference(reference[:i] + replacement + reference[i + 1 :])


@pytest.mark.parametrize(
    "decorate",
    [
        lambda r: r,
        lambda r: f"MBVCB.1234567.{r}.CT tu 0123 NGUYEN VAN A toi CONG AN",
        lambda r: f"{r[:4]} {r[4:]} thanh toan le phi",
        lambda r: f"ibft-{r.lower()}-ref",
        lambda r: f"TRACE 998877 {r[:6]}-{r[6:]}",
    ],
)
def test_reference_is_found_in_a_note_banks_decorated(decorate: object) -> None:
    reference = make_reference(uuid4())
    assert find_reference(decorate(reference)) == reference  # type: ignore[operator]


def test_no_reference_in_an_unrelated_note() -> None:
    assert find_reference("chuyen tien an trua CS12345") is None
    assert find_reference("") is None


def test_exact_credit_pays() -> None:
    p = payment()
    applied = p.credit("tx1", 50_000, T0 + timedelta(minutes=1))
    assert applied.outcome is CreditOutcome.EXACT
    assert p.status is PaymentStatus.PAID
    assert p.id == payment_id(p.reference)


def test_underpaid_stays_open_with_balance_due_then_completes() -> None:
    p = payment()
    assert p.credit("tx1", 20_000, T0).outcome is CreditOutcome.PARTIAL
    assert (p.status, p.due_vnd) == (PaymentStatus.PENDING, 30_000)
    applied = p.credit("tx2", 40_000, T0 + timedelta(minutes=2))
    assert (applied.outcome, applied.applied_vnd, applied.excess_vnd) == (CreditOutcome.OVERPAID, 30_000, 10_000)
    assert p.status is PaymentStatus.PAID


def test_credit_after_payment_is_all_excess() -> None:
    p = payment()
    p.credit("tx1", 50_000, T0)
    applied = p.credit("tx2", 50_000, T0)
    assert (applied.outcome, applied.applied_vnd, applied.excess_vnd) == (CreditOutcome.OVERPAID, 0, 50_000)


def test_late_credit_expires_the_payment_and_is_flagged() -> None:
    p = payment()
    applied = p.credit("tx1", 50_000, T0 + timedelta(minutes=20))
    assert (applied.outcome, applied.applied_vnd, applied.excess_vnd) == (CreditOutcome.LATE, 0, 0)
    assert p.status is PaymentStatus.EXPIRED
    assert p.late_vnd == 50_000


def test_same_bank_transaction_cannot_be_credited_twice() -> None:
    p = payment()
    p.credit("tx1", 10_000, T0)
    with pytest.raises(InvalidTransition):
        p.credit("tx1", 10_000, T0)


def test_rejected_transitions() -> None:
    p = payment()
    with pytest.raises(InvalidTransition, match="not expired"):
        p.expire(T0)
    p.credit("tx1", 1_000, T0)
    with pytest.raises(InvalidTransition, match="partly paid"):
        p.cancel("x", T0)
    paid = payment()
    paid.credit("tx", 50_000, T0)
    with pytest.raises(InvalidTransition):
        paid.cancel("x", T0)
    with pytest.raises(InvalidTransition):
        paid.expire(T0 + timedelta(hours=1))
    cancelled = payment()
    cancelled.cancel("counter closed", T0)
    assert cancelled.status is PaymentStatus.CANCELLED
    assert cancelled.credit("late", 5, T0).outcome is CreditOutcome.LATE


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount_vnd", 0),
        ("amount_vnd", 1.5),
        ("bank_bin", "97043"),
        ("account_no", "12-34"),
        ("reference", "CS123"),
    ],
)
def test_invalid_payments_are_refused(field: str, value: object) -> None:
    kwargs: dict[str, object] = {
        "reference": make_reference(uuid4()),
        "request_id": uuid4(),
        "amount_vnd": 5,
        "payee_account": payable(PartyKind.AGENCY, "a"),
        "purpose": PaymentPurpose.TICKET,
        "purpose_id": "t",
        "bank_bin": "970436",
        "account_no": "123",
        "at": T0,
        "expires_at": T0 + timedelta(minutes=1),
        field: value,
    }
    with pytest.raises(InvalidValue):
        Payment.create(**kwargs)  # type: ignore[arg-type]


# (amount, minute it arrives, minutes the bank booked it before that)
credits = st.lists(st.tuples(st.integers(1, 200_000), st.integers(0, 30), st.integers(-2, 15)), min_size=1, max_size=8)


@given(st.integers(1, 200_000), credits)
def test_matching_credits_never_creates_or_loses_money(amount: int, arrivals: list[tuple[int, int, int]]) -> None:
    p = payment(amount)
    applied_total = excess_total = late_total = 0
    for i, (credit_vnd, minute, lag) in enumerate(arrivals):
        at = T0 + timedelta(minutes=minute)
        applied = p.credit(f"tx{i}", credit_vnd, at, booked_at=at - timedelta(minutes=lag), accepted_delay=DELAY)
        late = credit_vnd if applied.outcome is CreditOutcome.LATE else 0
        assert applied.applied_vnd + applied.excess_vnd + late == credit_vnd
        applied_total += applied.applied_vnd
        excess_total += applied.excess_vnd
        late_total += late
    assert applied_total == p.paid_vnd <= amount
    assert applied_total + excess_total + late_total == sum(c for c, _, _ in arrivals)
    assert (p.status is PaymentStatus.PAID) == (p.paid_vnd == amount)
    replayed = None
    for event in p.collect_events():
        replayed = event.mutate(replayed)
    assert vars(replayed) == vars(p)


def test_a_payment_stored_before_requests_were_recorded_is_read_with_no_request() -> None:
    p = payment()
    (created,) = p.collect_events()
    replayed = as_stored_v1(created).mutate(None)
    assert (replayed.request_id, replayed.reference, replayed.amount_vnd) == (None, p.reference, p.amount_vnd)


@pytest.mark.parametrize(
    ("booked_after_expiry", "notified_after_expiry", "outcome"),
    [
        (timedelta(seconds=-1), timedelta(minutes=5), CreditOutcome.EXACT),  # booked in time, notified late
        (timedelta(minutes=-3), DELAY - timedelta(seconds=1), CreditOutcome.EXACT),
        (timedelta(minutes=-3), DELAY, CreditOutcome.LATE),  # beyond the accepted delay
        (timedelta(0), timedelta(minutes=1), CreditOutcome.LATE),  # booked at expiry
        (timedelta(minutes=5), timedelta(seconds=-1), CreditOutcome.EXACT),  # bank clock ahead: judged on arrival
    ],
)
def test_lateness_is_judged_by_the_booking_time_within_the_accepted_delay(
    booked_after_expiry: timedelta, notified_after_expiry: timedelta, outcome: CreditOutcome
) -> None:
    p = payment()
    applied = p.credit(
        "tx1", 50_000, EXPIRY + notified_after_expiry, booked_at=EXPIRY + booked_after_expiry, accepted_delay=DELAY
    )
    assert applied.outcome is outcome
    assert p.status is (PaymentStatus.PAID if outcome is CreditOutcome.EXACT else PaymentStatus.EXPIRED)


def test_a_payment_expires_only_once_no_credit_booked_in_time_can_arrive() -> None:
    p = payment()
    with pytest.raises(InvalidTransition, match="booked in time"):
        p.expire(EXPIRY + DELAY - timedelta(seconds=1), DELAY)
    p.expire(EXPIRY + DELAY, DELAY)
    assert p.status is PaymentStatus.EXPIRED


def test_the_same_transaction_id_on_two_accounts_is_two_credits() -> None:
    p = payment()
    assert p.credit("FT1", 20_000, T0).outcome is CreditOutcome.PARTIAL  # on the payment's own account
    other = p.credit("FT1", 30_000, T0, bank_bin="970415", account_no="1140000077")
    assert (other.outcome, p.status) == (CreditOutcome.EXACT, PaymentStatus.PAID)
    with pytest.raises(InvalidTransition, match="970415/1140000077"):
        p.credit("FT1", 30_000, T0, bank_bin="970415", account_no="1140000077")


def test_a_credit_stored_before_credits_named_their_account_is_on_the_payments_own() -> None:
    p = payment()
    p.credit("FT1", 20_000, T0)
    created, credited = p.collect_events()
    replayed = as_stored_v1(credited, "bank_bin", "account_no").mutate(created.mutate(None))
    assert replayed.has_credit(p.bank_bin, p.account_no, "FT1")
    assert not replayed.has_credit("970415", p.account_no, "FT1")


def test_a_repeated_notice_is_a_duplicate_or_a_recorded_conflict() -> None:
    record = BankCredit.receive(
        bank_bin="970436",
        account_no="0011004455667",
        bank_tx_id="FT1",
        amount_vnd=50_000,
        note="x",
        booked_at=T0,
        payment_reference=None,
        outcome=CreditOutcome.UNMATCHED,
        at=T0,
    )
    assert record.receive_again(50_000, "x again", T0, T0) is None
    assert record.receive_again(5_000, "x", T0, T0) == 1
    assert record.receive_again(5_000, "x", T0, T0) is None
    assert record.receive_again(7_000, "x", T0, T0) == 2
    assert record.conflicting_amounts == [5_000, 7_000]


def test_a_bank_transaction_id_remembers_the_accounts_it_credited() -> None:
    seen = BankTransaction.first_credit(bank_bin="970436", bank_tx_id="FT1", account_no="A1", amount_vnd=1, at=T0)
    assert seen.credit_on("A1", 1, T0) is False
    assert seen.credit_on("A2", 1, T0) is True
    assert seen.accounts == ["A1", "A2"]


def test_a_credit_keeps_its_counterparty_and_older_credits_have_none() -> None:
    mapper = build_mapper(CodecOptions())
    payer = Counterparty("NGUYEN VAN A", "8888888888", "970415")
    credit = BankCredit.receive(
        bank_bin="970415", account_no="1140000088", bank_tx_id="FT1", amount_vnd=8_000, note="x",
        booked_at=datetime(2026, 3, 9, 1, 0, tzinfo=UTC), payment_reference=None,
        outcome=CreditOutcome.UNMATCHED, at=datetime(2026, 3, 9, 1, 0, tzinfo=UTC), counterparty=payer,
    )  # fmt: skip
    assert credit.counterparty == payer
    (received,) = credit.collect_events()
    stored = mapper.to_stored_event(received)
    state = mapper.transcoder.decode(stored.state)
    assert state.pop("class_version") == 2
    del state["counterparty"]
    old = type(stored)(stored.originator_id, stored.originator_version, stored.topic, mapper.transcoder.encode(state))
    decoded: Any = mapper.to_domain_event(old)
    replayed = decoded.mutate(None)
    assert isinstance(replayed, BankCredit)
    assert replayed.counterparty is None
    assert Counterparty().recorded() is None, "a notice that names nobody records nothing"
    assert Counterparty("x" * 500).recorded() == {"name": "x" * 200, "account_no": "", "bank": ""}
