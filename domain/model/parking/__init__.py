"""Parking: lots and zones, tariffs as data, quotes, sessions, reservations, ledger rules.

One concept per module; this package re-exports the names use cases and tests need.
"""

from domain.model.parking.arrivals import Arrival
from domain.model.parking.common import (
    Channel,
    NothingDue,
    PaymentMethod,
    VehicleClass,
    lot_id,
    reservation_id,
    session_id,
)
from domain.model.parking.lots import ParkingLot, Spaces
from domain.model.parking.quotes import Quote, Segment, SegmentKind, quote
from domain.model.parking.reservations import BookingRequest, NoShowRule, Reservation, ReservationStatus
from domain.model.parking.sessions import ParkingSession, SessionStatus
from domain.model.parking.tariffs import Band, Step, Tariff, TariffChange, TariffSchedule

__all__ = [
    "Arrival",
    "Band",
    "BookingRequest",
    "Channel",
    "NoShowRule",
    "NothingDue",
    "ParkingLot",
    "ParkingSession",
    "PaymentMethod",
    "Quote",
    "Reservation",
    "ReservationStatus",
    "Segment",
    "SegmentKind",
    "SessionStatus",
    "Spaces",
    "Step",
    "Tariff",
    "TariffChange",
    "TariffSchedule",
    "VehicleClass",
    "lot_id",
    "quote",
    "reservation_id",
    "session_id",
]
