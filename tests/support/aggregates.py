"""A small aggregate for storage tests: the store must not care what the domain is."""

from __future__ import annotations

from eventsourcing.domain import Aggregate, event


class Wallet(Aggregate):
    class Opened(Aggregate.Created):
        owner: str

    class Credited(Aggregate.Event):
        amount_vnd: int

    @event(Opened)
    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.balance_vnd = 0

    @event(Credited)
    def credit(self, amount_vnd: int) -> None:
        self.balance_vnd += amount_vnd


class Vé(Aggregate):
    """A ticket named in Vietnamese: its topic is not ASCII, which the chain must hash as UTF-8."""

    class Phát_hành(Aggregate.Created):
        ghi_chú: str

    @event(Phát_hành)
    def __init__(self, ghi_chú: str) -> None:
        self.ghi_chú = ghi_chú
