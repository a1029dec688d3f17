"""Use cases of bank connectors: register one, look one up for an incoming notification."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.model.bank_connectors import BankConnector, BankProvider, SealedSecret, checked_name, connector_id
from domain.model.errors import InvalidTransition, InvalidValue
from domain.ports import EventStore
from domain.services.unit_of_work import UnitOfWork, UseCase


def register_bank_connector(name: str, provider: BankProvider, secret: SealedSecret, at: datetime) -> UseCase:
    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        if await uow.find(BankConnector, connector_id(checked_name(name))) is not None:
            raise InvalidTransition(f"a bank connector named {name!r} is already registered: choose another name")
        connector = BankConnector.register(name=name, provider=provider, secret=secret, at=at)
        uow.add(connector)
        return connector.view()

    return use_case


async def find_bank_connector(store: EventStore, name: str) -> BankConnector | None:
    """The connector a notification names, or None (also for a name that cannot be one)."""
    try:
        aggregate_id = connector_id(checked_name(name))
    except InvalidValue:
        return None
    return await UnitOfWork(store).find(BankConnector, aggregate_id)
