"""Use cases of API clients: register, rotate a key, revoke, read, list.

Key material arrives already made by the caller (the domain holds no randomness): the
Ed25519 public key, or the HMAC secret sealed with the store's cipher key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.model.clients import Client, KeyAlgorithm, Role, client_stream_id
from domain.model.errors import InvalidTransition
from domain.ports import EventStore
from domain.services.registrations import registrations
from domain.services.unit_of_work import UnitOfWork, UseCase


def register_client(
    *,
    client_id: str,
    name: str,
    role: Role,
    scope: tuple[str, ...],
    algorithm: KeyAlgorithm,
    material: str,
    at: datetime,
) -> UseCase:
    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        if await uow.find(Client, client_stream_id(client_id)) is not None:
            raise InvalidTransition(f"client {client_id} already exists")
        client = Client.register(
            client_id=client_id, name=name, role=role, scope=scope, algorithm=algorithm, material=material, at=at
        )
        uow.add(client)
        return {**client.view(), "key_id": client.current_key(at).key_id, "algorithm": algorithm.value}

    return use_case


def rotate_client_key(
    client_id: str, *, algorithm: KeyAlgorithm, material: str, old_valid_until: datetime, at: datetime
) -> UseCase:
    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        client = await uow.get(Client, client_stream_id(client_id))
        key_id = client.rotate(algorithm=algorithm, material=material, old_valid_until=old_valid_until, at=at)
        return {**client.view(), "key_id": key_id, "algorithm": algorithm.value}

    return use_case


def revoke_client(client_id: str, reason: str, at: datetime) -> UseCase:
    async def use_case(uow: UnitOfWork) -> dict[str, Any]:
        client = await uow.get(Client, client_stream_id(client_id))
        client.revoke(reason, at)
        return client.view()

    return use_case


async def load_client(store: EventStore, client_id: str) -> Client | None:
    return await UnitOfWork(store).find(Client, client_stream_id(client_id))


async def list_clients(store: EventStore) -> list[dict[str, Any]]:
    """Every client ever registered, in registration order (`registrations`)."""
    views = []
    for client_id in [event.client_id for event in await registrations(store, Client.Registered)]:
        client = await load_client(store, client_id)
        assert client is not None, "a registration without its client stream"
        views.append(client.view())
    return views
