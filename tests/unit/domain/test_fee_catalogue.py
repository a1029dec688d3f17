"""The recorded fee catalogue: checked entries, revisions, and replay."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from domain.model.errors import InvalidValue
from domain.model.fee_catalogue import CatalogueEntry
from domain.model.fees import FeeService, SubsidyRule

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
RULE = SubsidyRule("vneid", 100, "ns-hn", "NQ 56/2024")
SERVICE = FeeService("LLTP-01", "Ly lich tu phap", "stp-hn", 200_000, "TT 244/2016", (RULE,))


def test_a_revision_changes_the_entry_and_a_repeat_records_nothing() -> None:
    entry = CatalogueEntry.publish(SERVICE, T0)
    assert entry.revise(SERVICE, T0) is False
    assert entry.revise(replace(SERVICE, amount_vnd=250_000), T0) is True
    rebuilt = None
    for event in entry.collect_events():
        rebuilt = event.mutate(rebuilt)
    assert isinstance(rebuilt, CatalogueEntry)
    assert rebuilt.service == replace(SERVICE, amount_vnd=250_000)
    assert rebuilt.view()["subsidies"][0]["budget_payee_id"] == "ns-hn"


@pytest.mark.parametrize(
    "service",
    [
        replace(SERVICE, service_code=""),
        replace(SERVICE, service_code="a b"),
        replace(SERVICE, legal_basis=" "),
        replace(SERVICE, subsidies=(RULE, replace(RULE, percent=50))),
    ],
)
def test_bad_entries_are_refused(service: FeeService) -> None:
    with pytest.raises(InvalidValue):
        CatalogueEntry.publish(service, T0)
