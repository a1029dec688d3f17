"""Parking sessions: a vehicle's stay, from the report of its start to its end and fee."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.model.errors import InvalidTransition, InvalidValue
from domain.model.money import checked_vnd
from domain.model.parking.arrivals import Arrival
from domain.model.parking.common import (
    Channel,
    PaymentMethod,
    VehicleClass,
    aware,
    choice,
    label,
    session_id,
)
from domain.model.parking.lots import ParkingLot
from domain.model.parking.postings import hold_expected_fee, release, session_cause
from domain.model.parking.quotes import MAX_BILLABLE, Quote, Segment, quote
from domain.model.parking.tariffs import TariffSchedule
from domain.model.transfers import Hold, HoldStatus


class SessionStatus(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


class ParkingSession(Aggregate):
    """One vehicle's stay in a zone of a lot.

    Invariants:
    - its id is ``uuid5`` of the lot and the reporter's reference; it is active from its
      start until it ends, exactly once, no earlier than it started; an ended session
      never changes;
    - the expected end only moves later, and never past the maximum stay of the tariff in
      force at the start; ending later is allowed (and flagged ``overstayed``);
    - the fee is the quote of the lot's tariff schedule for the stay; its segments sum to it.
      A quote covers at most `MAX_BILLABLE` (366 days): a longer stay (an abandoned car, a
      session nobody ended) still ends, billed for its first `MAX_BILLABLE` only;
      ``billed_until`` records where billing stopped and ``billing_capped`` flags the
      session for the operator, who decides what to do about the rest;
    - it has at most one wallet hold at a time, in its driver's wallet for its operator;
    - paying by wallet needs a driver; at the end, ``amount_due_vnd`` is the fee when it is
      paid by QR, 0 when paid in cash, and when paid by wallet the part of the fee the
      wallet cannot cover (its hold plus its available balance): a wallet never goes
      negative, the shortfall is collected by a QR payment like a QR fee; once the
      payments module records the whole amount due paid it is 0.
    """

    class Started(Aggregate.Created):
        lot_id: UUID
        operator_id: str
        zone: str
        vehicle_class: str
        plate: str
        channel: str
        device_id: str | None
        driver_id: str | None
        started_at: datetime
        expected_end: datetime | None
        reservation_id: UUID | None
        hold_id: UUID | None
        held_vnd: int

    class Extended(Aggregate.Event):
        expected_end: datetime
        hold_id: UUID | None
        held_vnd: int

        def apply(self, aggregate: ParkingSession) -> None:
            aggregate.expected_end = self.expected_end
            aggregate.hold_id = self.hold_id
            aggregate.held_vnd = self.held_vnd

    class Ended(Aggregate.Event):
        class_version = 2
        ended_at: datetime
        channel: str
        device_id: str | None
        fee_vnd: int
        segments: list[dict[str, Any]]
        payment_method: str
        payment_reference: str | None
        amount_due_vnd: int
        overstayed: bool
        billed_until: datetime

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Before version 2 a session could only end within the quote's bound: all of it was billed.
            state["billed_until"] = state["ended_at"]

        def apply(self, aggregate: ParkingSession) -> None:
            aggregate.status = SessionStatus.ENDED
            aggregate.ended_at = self.ended_at
            aggregate.billed_until = self.billed_until
            aggregate.ended_via = Channel(self.channel)
            aggregate.fee_vnd = self.fee_vnd
            aggregate.segments = tuple(Segment.from_dict(s) for s in self.segments)
            aggregate.payment_method = PaymentMethod(self.payment_method)
            aggregate.payment_reference = self.payment_reference
            aggregate.amount_due_vnd = self.amount_due_vnd
            aggregate.overstayed = self.overstayed

    class PaidByQr(Aggregate.Event):
        payment_reference: str
        amount_vnd: int

        def apply(self, aggregate: ParkingSession) -> None:
            aggregate.amount_due_vnd -= self.amount_vnd
            aggregate.payment_reference = self.payment_reference

    def __init__(
        self,
        lot_id: UUID,
        operator_id: str,
        zone: str,
        vehicle_class: str,
        plate: str,
        channel: str,
        device_id: str | None,
        driver_id: str | None,
        started_at: datetime,
        expected_end: datetime | None,
        reservation_id: UUID | None,
        hold_id: UUID | None,
        held_vnd: int,
    ) -> None:
        self.lot_id = lot_id
        self.operator_id = operator_id
        self.zone = zone
        self.vehicle_class = VehicleClass(vehicle_class)
        self.plate = plate
        self.started_via = Channel(channel)
        self.device_id = device_id
        self.driver_id = driver_id
        self.started_at = started_at
        self.expected_end = expected_end
        self.reservation_id = reservation_id
        self.hold_id = hold_id
        self.held_vnd = held_vnd
        self.status = SessionStatus.ACTIVE
        self.ended_at: datetime | None = None
        self.billed_until: datetime | None = None
        self.ended_via: Channel | None = None
        self.fee_vnd = 0
        self.segments: tuple[Segment, ...] = ()
        self.payment_method: PaymentMethod | None = None
        self.payment_reference: str | None = None
        self.amount_due_vnd = 0
        self.overstayed = False

    @classmethod
    def start(
        cls,
        lot: ParkingLot,
        arrival: Arrival,
        at: datetime,
        *,
        reservation_id: UUID | None = None,
        adopted_hold: Hold | None = None,
    ) -> tuple[ParkingSession, Hold | None]:
        """Start a stay; with ``prepay``, also hold its expected fee in the driver's wallet.

        A session that honours a reservation adopts the reservation's hold instead. Returns
        the session and the hold it placed, if any (both new aggregates to store).
        """
        arrival.check(aware(at))
        schedule = lot.schedule(arrival.zone, arrival.vehicle_class)
        schedule.in_force(at)  # a stay that no tariff prices could never end
        if arrival.expected_end is not None:
            schedule.check_stay(at, arrival.expected_end)
        new_id = session_id(lot.id, arrival.reference)
        hold = adopted_hold
        if hold is not None and (hold.status is not HoldStatus.PENDING or at >= hold.expires_at):
            raise InvalidTransition("the reservation's hold is no longer open")
        if hold is None and arrival.prepay:
            assert arrival.driver_id is not None, "Arrival.check requires a driver to prepay"
            hold = hold_expected_fee(
                session_cause(new_id), lot.operator_id, arrival.driver_id, schedule, at, at, arrival.expected_end
            )
        session = cls._create(
            cls.Started,
            id=new_id,
            timestamp=at,
            lot_id=lot.id,
            operator_id=lot.operator_id,
            zone=arrival.zone,
            vehicle_class=arrival.vehicle_class.value,
            plate=arrival.plate,
            channel=arrival.channel.value,
            device_id=arrival.device_id,
            driver_id=arrival.driver_id,
            started_at=at,
            expected_end=arrival.expected_end,
            reservation_id=reservation_id,
            hold_id=hold.id if hold else None,
            held_vnd=hold.amount_vnd if hold else 0,
        )
        return session, (hold if adopted_hold is None else None)

    def extend(self, expected_end: datetime, at: datetime, schedule: TariffSchedule, hold: Hold | None) -> Hold | None:
        """Move the expected end later. A held session whose new expected fee exceeds its
        hold gets a new, larger hold (returned) and the old one is released."""
        self._require_active(at)
        assert (hold.id if hold else None) == self.hold_id, "extend is given the session's own hold"
        if aware(expected_end, "expected_end") <= max(at, self.expected_end or self.started_at):
            raise InvalidValue("an extension must move the expected end later, and past now")
        schedule.check_stay(self.started_at, expected_end)
        new_hold = None
        if hold is not None and quote(schedule, self.started_at, expected_end).total_vnd > self.held_vnd:
            assert self.driver_id is not None, "only a driver's session holds wallet money"
            release(hold, "replaced by a larger hold", at)
            new_hold = hold_expected_fee(
                session_cause(self.id), self.operator_id, self.driver_id, schedule, self.started_at, at, expected_end
            )
        self.trigger_event(
            self.Extended,
            timestamp=at,
            expected_end=expected_end,
            hold_id=new_hold.id if new_hold else self.hold_id,
            held_vnd=new_hold.amount_vnd if new_hold else self.held_vnd,
        )
        return new_hold

    def end(
        self,
        at: datetime,
        schedule: TariffSchedule,
        method: PaymentMethod,
        channel: Channel,
        *,
        device_id: str | None = None,
        payment_reference: str | None = None,
        wallet_spendable_vnd: int | None = None,
    ) -> Quote:
        """End the stay at ``at`` and price it; the caller settles the fee (see `postings.settle_fee`).

        ``wallet_spendable_vnd`` is what the driver's wallet can pay now (its available
        balance plus this session's hold); paying by wallet, the fee above it stays due.
        ``None`` when the caller does not limit it (the wallet guard still will).
        """
        self._require_active(at)
        choice(PaymentMethod, method, "payment_method")
        choice(Channel, channel, "channel")
        if method is PaymentMethod.WALLET and self.driver_id is None:
            raise InvalidValue("only a driver's session can be paid from a wallet")
        if channel in (Channel.METER, Channel.GATE) and device_id is None:
            raise InvalidValue(f"a {channel} report names its device")
        for value, name in ((device_id, "device_id"), (payment_reference, "payment_reference")):
            if value is not None:
                label(value, name)
        billed_until = min(at, self.started_at + MAX_BILLABLE)
        priced = quote(schedule, self.started_at, billed_until)
        due = _amount_due(method, priced.total_vnd, wallet_spendable_vnd)
        booked_end = self.expected_end or schedule.latest_end(self.started_at)
        self.trigger_event(
            self.Ended,
            timestamp=at,
            ended_at=at,
            channel=channel.value,
            device_id=device_id,
            fee_vnd=priced.total_vnd,
            segments=[s.as_dict() for s in priced.segments],
            payment_method=method.value,
            payment_reference=payment_reference,
            amount_due_vnd=due,
            overstayed=at > booked_end,
            billed_until=billed_until,
        )
        return priced

    @property
    def billing_capped(self) -> bool:
        """The stay outlasted what one quote can bill; the operator should look at it."""
        return self.ended_at is not None and self.billed_until is not None and self.billed_until < self.ended_at

    def record_qr_payment(self, payment_reference: str, amount_vnd: int, at: datetime) -> None:
        """The payments module collected the amount due by QR (a QR fee, or what the wallet
        could not cover); its bank credit paid the operator."""
        if self.status is not SessionStatus.ENDED or self.payment_method is PaymentMethod.CASH:
            raise InvalidTransition(f"session {self.id} does not wait for a QR payment")
        if self.amount_due_vnd == 0:
            raise InvalidTransition(f"session {self.id} is already paid")
        if amount_vnd != self.amount_due_vnd:
            raise InvalidValue(f"session {self.id} is due {self.amount_due_vnd} VND, not {amount_vnd}")
        label(payment_reference, "payment_reference")
        assert self.ended_at is not None, "an ended session has an end"
        if aware(at) < self.ended_at:
            raise InvalidValue("a session cannot be paid before it ended")
        self.trigger_event(self.PaidByQr, timestamp=at, payment_reference=payment_reference, amount_vnd=amount_vnd)

    def _require_active(self, at: datetime) -> None:
        if self.status is not SessionStatus.ACTIVE:
            raise InvalidTransition(f"session {self.id} is {self.status}, not active")
        if aware(at) < self.started_at:
            raise InvalidValue("a session cannot change before it started")


def _amount_due(method: PaymentMethod, fee_vnd: int, wallet_spendable_vnd: int | None) -> int:
    if method is PaymentMethod.QR:
        return fee_vnd
    if method is PaymentMethod.WALLET and wallet_spendable_vnd is not None:
        return fee_vnd - min(fee_vnd, checked_vnd(wallet_spendable_vnd, name="wallet_spendable_vnd"))
    return 0
