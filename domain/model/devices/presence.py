"""Whether a plate is inside a lot, as its devices saw it: which session its entry started.

An exit is read by another device than the entry (the south gate, the next meter), so
the session an exit ends is found through the plate, per lot: one small stream per
plate and lot, so that two busy gates never contend unless they read the same car.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

PRESENCE_NAMESPACE = uuid5(NAMESPACE_URL, "https://citysettle.example/devices/presence")


@lru_cache(maxsize=4_096)  # uuid5 is ~5 µs: a meter batch asks for each plate's id four times
def presence_id(lot: UUID, plate: str) -> UUID:
    return uuid5(PRESENCE_NAMESPACE, f"{lot}:{plate}")


class PlatePresence(Aggregate):
    """Invariants: its id is ``uuid5`` of the lot and the canonical plate; it names at
    most one session, the one the plate's last entry started, until an exit ends it."""

    class FirstEntered(Aggregate.Created):
        lot_id: UUID
        plate: str
        session_id: UUID
        at: datetime

    class Entered(Aggregate.Event):
        session_id: UUID
        at: datetime

        def apply(self, aggregate: PlatePresence) -> None:
            aggregate.session_id = self.session_id

    class Left(Aggregate.Event):
        session_id: UUID
        at: datetime

        def apply(self, aggregate: PlatePresence) -> None:
            aggregate.session_id = None

    def __init__(self, lot_id: UUID, plate: str, session_id: UUID, at: datetime) -> None:
        self.lot_id = lot_id
        self.plate = plate
        self.session_id: UUID | None = session_id

    @classmethod
    def first_entry(cls, lot: UUID, plate: str, session: UUID, at: datetime) -> PlatePresence:
        found = presence_id(lot, plate)
        return cls._create(cls.FirstEntered, id=found, timestamp=at, lot_id=lot, plate=plate, session_id=session, at=at)

    def enter(self, session: UUID, at: datetime) -> UUID | None:
        """The plate entered again; returns the session it was still in, if any (its exit
        was missed: that session stays open for an attendant to end)."""
        earlier = self.session_id
        self.trigger_event(self.Entered, timestamp=at, session_id=session, at=at)
        return earlier

    def leave(self, at: datetime) -> None:
        assert self.session_id is not None, "only a plate that is inside leaves"
        self.trigger_event(self.Left, timestamp=at, session_id=self.session_id, at=at)
