"""Bus e-tickets: products, the `Ticket` aggregate, and pay-as-you-go fare capping."""

from domain.model.tickets.boundary import DayBoundary, day_boundary_id
from domain.model.tickets.capping import MAX_TAPS_PER_DAY, RiderDay, rider_day_id
from domain.model.tickets.errors import RefusalReason, TicketRefused
from domain.model.tickets.products import (
    PAYG_FARES,
    PRODUCTS,
    Concession,
    PaygFare,
    Product,
    ProductKind,
    Validity,
    ValidityUnit,
    find_fare,
    find_product,
)
from domain.model.tickets.service_day import SERVICE_TZ, service_day, service_day_start
from domain.model.tickets.ticket import PaymentMethod, Ticket, TicketStatus, ticket_id

__all__ = [
    "MAX_TAPS_PER_DAY",
    "PAYG_FARES",
    "PRODUCTS",
    "SERVICE_TZ",
    "Concession",
    "DayBoundary",
    "PaygFare",
    "PaymentMethod",
    "Product",
    "ProductKind",
    "RefusalReason",
    "RiderDay",
    "Ticket",
    "TicketRefused",
    "TicketStatus",
    "Validity",
    "ValidityUnit",
    "day_boundary_id",
    "find_fare",
    "find_product",
    "rider_day_id",
    "service_day",
    "service_day_start",
    "ticket_id",
]
