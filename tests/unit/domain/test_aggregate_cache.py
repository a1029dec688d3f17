"""The aggregate cache: bounded, only its classes, taken out while in use."""

from __future__ import annotations

from domain.services.aggregate_cache import AggregateCache
from tests.support.aggregates import Vé, Wallet


def test_it_keeps_only_its_classes_and_the_most_recent_ones() -> None:
    cache = AggregateCache([Wallet], max_aggregates=2)
    wallets = [Wallet(owner=f"w{i}") for i in range(3)]
    cache.keep([*wallets, Vé(ghi_chú="không")])
    assert len(cache) == 2
    assert cache.take(wallets[0].id) is None  # least recently kept, dropped
    assert cache.take(wallets[2].id) is wallets[2]
    assert cache.take(wallets[2].id) is None  # taken out while a use case works on it
    assert cache.caches(Wallet)
    assert not cache.caches(Vé)
