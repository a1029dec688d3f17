"""Use cases of bank connectors: register one, rotate its secret, look one up for an incoming notification."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from domain.model.bank_connectors import BankConnector, BankProvider, SealedSecret, checked_name, connector_id
from domain.model.errors import InvalidTransition, InvalidValue, NotFound
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


def rotate_bank_connector_secret(name: str, secret: SealedSecret, grace: timedelta, at: datetime) -> UseCase:
    """Result: the connector's view (``previous_secret_valid_until``: the old secret's end)."""

    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        connector = await uow.find(BankConnector, connector_id(checked_name(name)))
        if connector is None:
            raise NotFound(f"no bank connector named {name!r}: register it with `citysettle banks add`")
        connector.rotate(secret, grace, at)
        return connector.view()

    return use_case


async def find_bank_connector(store: EventStore, name: str) -> BankConnector | None:
    """The connector a notification names, or None (also for a name that cannot be one)."""
    try:
        aggregate_id = connector_id(checked_name(name))
    except InvalidValue:
        return None
    return await UnitOfWork(store).find(BankConnector, aggregate_id)
