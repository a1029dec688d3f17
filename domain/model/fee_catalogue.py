"""The fee catalogue as events: one `CatalogueEntry` stream per service code.

`CatalogueEntry` invariants:
- it always holds one valid `FeeService` (amount in range, subsidies of 1-100 %, one
  rule per channel); the invoices issued from it record the amount and legal basis
  they were issued with, so revising an entry never changes an invoice;
- a revision that repeats the current entry records nothing.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.model.errors import InvalidValue
from domain.model.fees import FeeService, SubsidyRule

CATALOGUE_NAMESPACE = uuid5(NAMESPACE_URL, "https://citysettle.example/fee-catalogue")
SUBSIDIES_MAX = 20


def catalogue_entry_id(service_code: str) -> UUID:
    return uuid5(CATALOGUE_NAMESPACE, service_code)


def _service(service_code: str, details: dict[str, Any]) -> FeeService:
    return FeeService(
        service_code=service_code,
        name=details["name"],
        agency_id=details["agency_id"],
        amount_vnd=details["amount_vnd"],
        legal_basis=details["legal_basis"],
        subsidies=tuple(SubsidyRule(**s) for s in details["subsidies"]),
    )


def _details(service: FeeService) -> dict[str, Any]:
    return {
        "name": service.name,
        "agency_id": service.agency_id,
        "amount_vnd": service.amount_vnd,
        "legal_basis": service.legal_basis,
        "subsidies": [asdict(s) for s in service.subsidies],
    }


def checked_service(service: FeeService) -> FeeService:
    code = service.service_code
    if not code or len(code) > 40 or not code.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise InvalidValue("service_code must be 1-40 letters, digits, '-', '_' or '.'")
    if not service.name.strip() or len(service.name) > 200:
        raise InvalidValue("a fee service's name must be 1-200 characters")
    if not service.legal_basis.strip() or len(service.legal_basis) > 500:
        raise InvalidValue("legal_basis must be 1-500 characters (the decision that sets the fee)")
    if len(service.subsidies) > SUBSIDIES_MAX:
        raise InvalidValue(f"at most {SUBSIDIES_MAX} subsidy rules")
    channels = [s.channel for s in service.subsidies]
    if len(set(channels)) != len(channels):
        raise InvalidValue("one subsidy rule per channel")
    return service


class CatalogueEntry(Aggregate):
    """One service of the fee schedule (see module docstring)."""

    class Published(Aggregate.Created):
        service_code: str
        details: dict[str, Any]

    class Revised(Aggregate.Event):
        details: dict[str, Any]

        def apply(self, aggregate: CatalogueEntry) -> None:
            aggregate.service = _service(aggregate.service.service_code, self.details)

    def __init__(self, service_code: str, details: dict[str, Any]) -> None:
        self.service = _service(service_code, details)

    @classmethod
    def publish(cls, service: FeeService, at: datetime) -> CatalogueEntry:
        checked_service(service)
        return cls._create(
            cls.Published,
            id=catalogue_entry_id(service.service_code),
            timestamp=at,
            service_code=service.service_code,
            details=_details(service),
        )

    def revise(self, service: FeeService, at: datetime) -> bool:
        """Record the new terms; False when they are the current ones."""
        assert service.service_code == self.service.service_code, "an entry keeps its code"
        if checked_service(service) == self.service:
            return False
        self.trigger_event(self.Revised, timestamp=at, details=_details(service))
        return True

    def view(self) -> dict[str, Any]:
        s = self.service
        return {
            "service_code": s.service_code,
            "name": s.name,
            "payee_id": s.agency_id,
            "amount_vnd": s.amount_vnd,
            "legal_basis": s.legal_basis,
            "subsidies": [
                {
                    "channel": r.channel,
                    "percent": r.percent,
                    "budget_payee_id": r.budget_id,
                    "legal_basis": r.legal_basis,
                }
                for r in s.subsidies
            ],
        }
