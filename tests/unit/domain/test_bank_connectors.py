"""Bank connectors as events: one per name, the secret only ever sealed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.model.bank_connectors import BankConnector, BankProvider, SealedSecret, connector_id
from domain.model.errors import InvalidValue

AT = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
SEALED = SealedSecret("aesgcm:c2VhbGVkLXNlY3JldA==")


def test_a_connector_is_found_by_its_name() -> None:
    connector = BankConnector.register(name="payos-bidv", provider=BankProvider.PAYOS, secret=SEALED, at=AT)
    assert connector.id == connector_id("payos-bidv")
    [event] = connector.collect_events()
    assert isinstance(event, BankConnector.Registered)
    assert (event.name, event.provider, event.secret_sealed) == ("payos-bidv", "payos", SEALED.value)


def test_its_view_never_holds_the_secret() -> None:
    connector = BankConnector.register(name="sepay", provider=BankProvider.SEPAY, secret=SEALED, at=AT)
    view = connector.view()
    assert set(view) == {"connector_id", "name", "provider", "rotations", "previous_secret_valid_until"}
    assert SEALED.value not in repr(view)
    assert SEALED.value not in repr(connector.secret)


@pytest.mark.parametrize("name", ["", "PayOS", "pay os", "-payos", "payos-", "a" * 41, "payos/x"])
def test_a_name_must_fit_a_url_path_segment(name: str) -> None:
    with pytest.raises(InvalidValue, match="connector name"):
        BankConnector.register(name=name, provider=BankProvider.PAYOS, secret=SEALED, at=AT)


def test_an_empty_sealed_secret_is_refused() -> None:
    with pytest.raises(InvalidValue, match="sealed secret"):
        BankConnector.register(name="casso", provider=BankProvider.CASSO, secret=SealedSecret(""), at=AT)


def test_a_rotation_keeps_the_old_secret_only_for_its_grace_and_replays() -> None:
    connector = BankConnector.register(name="payos", provider=BankProvider.PAYOS, secret=SEALED, at=AT)
    second, third = SealedSecret("aesgcm:c2Vjb25k"), SealedSecret("aesgcm:dGhpcmQ=")
    connector.rotate(second, timedelta(minutes=15), AT + timedelta(hours=1))
    assert connector.secrets_at(AT + timedelta(hours=1, minutes=14)) == [second, SEALED]
    assert connector.secrets_at(AT + timedelta(hours=1, minutes=15)) == [second]
    connector.rotate(third, timedelta(0), AT + timedelta(hours=1, minutes=5))
    assert connector.secrets_at(AT + timedelta(hours=1, minutes=5)) == [third], "no grace: at once"
    assert connector.view()["rotations"] == 2
    replayed = None
    for event in connector.collect_events():
        replayed = event.mutate(replayed)
    assert isinstance(replayed, BankConnector)
    assert (replayed.secret, replayed.previous, replayed.rotations) == (third, second, 2)
    with pytest.raises(InvalidValue, match="grace"):
        connector.rotate(SEALED, timedelta(days=2), AT + timedelta(hours=2))
