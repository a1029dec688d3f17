"""Store URLs in messages and logs: passwords hidden wherever a URL can carry one, the
rest as given."""

from __future__ import annotations

import pytest

from adapters.eventstore.base import redacted_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://app:s3cret@db/x", "postgresql://app:***@db/x"),
        ("postgresql://app:s3cret@db:5433/x?sslmode=require", "postgresql://app:***@db:5433/x?sslmode=require"),
        ("postgresql://db/x?password=s3cret&schema=a", "postgresql://db/x?password=***&schema=a"),
        ("postgresql://db/x?PassWord=s3cret", "postgresql://db/x?PassWord=***"),
        ("postgresql://db/x?sslpassword=k3y&user=app", "postgresql://db/x?sslpassword=***&user=app"),
        ("postgresql://app@db/x", "postgresql://app@db/x"),
        ("sqlite:///./var/x.db", "sqlite:///./var/x.db"),
        ("sqlite:////tmp/a b.db", "sqlite:////tmp/a b.db"),
    ],
)
def test_passwords_are_hidden_and_nothing_else_changes(url: str, shown: str) -> None:
    assert redacted_url(url) == shown
    assert "s3cret" not in redacted_url(url)
    assert "k3y" not in redacted_url(url)
