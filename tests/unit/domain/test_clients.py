"""Clients and their keys: rotation windows, revocation, scopes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.model.clients import Client, KeyAlgorithm, KeyRefused, Role, client_of_key
from domain.model.errors import InvalidTransition, InvalidValue

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def client(role: Role = Role.TERMINAL, scope: tuple[str, ...] = ("lot-1",)) -> Client:
    return Client.register(
        client_id="cl_1", name="Counter 1", role=role, scope=scope, algorithm=KeyAlgorithm.ED25519, material="A", at=T0
    )


def refusal(c: Client, key_id: str, at: datetime) -> str:
    with pytest.raises(KeyRefused) as refused:
        c.key_for(key_id, at)
    return refused.value.check


def test_the_first_key_is_named_after_the_client() -> None:
    c = client()
    assert list(c.keys) == ["cl_1.k1"]
    assert client_of_key("cl_1.k1") == "cl_1"
    assert client_of_key("cl_1") == ""
    assert client_of_key("cl_1.x1") == ""


def test_a_rotated_key_stays_valid_until_its_end() -> None:
    c = client()
    new = c.rotate(algorithm=KeyAlgorithm.ED25519, material="B", old_valid_until=T0 + timedelta(hours=1), at=T0)
    assert new == "cl_1.k2"
    assert c.key_for("cl_1.k1", T0 + timedelta(minutes=59)).material == "A"
    assert refusal(c, "cl_1.k1", T0 + timedelta(hours=1)) == "key-expired"
    assert c.key_for("cl_1.k2", T0 + timedelta(days=400)).material == "B"


def test_rotation_cannot_backdate_the_old_key() -> None:
    with pytest.raises(InvalidValue):
        client().rotate(algorithm=KeyAlgorithm.ED25519, material="B", old_valid_until=T0 - timedelta(seconds=1), at=T0)


def test_a_revoked_client_has_no_valid_key_and_cannot_rotate() -> None:
    c = client()
    c.revoke("lost", T0)
    assert refusal(c, "cl_1.k1", T0) == "key-revoked"
    assert refusal(c, "cl_1.k9", T0) == "keyid"
    with pytest.raises(InvalidTransition):
        c.rotate(algorithm=KeyAlgorithm.ED25519, material="B", old_valid_until=T0, at=T0)


def test_replaying_the_events_rebuilds_the_same_client() -> None:
    c = client()
    c.rotate(algorithm=KeyAlgorithm.HMAC_SHA256, material="S", old_valid_until=T0 + timedelta(hours=1), at=T0)
    rebuilt = None
    for event in c.collect_events():
        rebuilt = event.mutate(rebuilt)
    assert isinstance(rebuilt, Client)
    assert rebuilt.view() == c.view()


@pytest.mark.parametrize(("role", "scope"), [(Role.DEVICE, ()), (Role.DEVICE, ("m1", "m2")), (Role.TERMINAL, ("",))])
def test_scopes_are_checked(role: Role, scope: tuple[str, ...]) -> None:
    with pytest.raises(InvalidValue):
        client(role, scope)


def test_a_device_names_its_device() -> None:
    assert client(Role.DEVICE, ("meter-7",)).scope == ("meter-7",)
