"""Which of a device's events were received: deduplication by event id, sequence gaps.

Invariants:
- an event id is taken at most once per device while it is within the last
  ``ID_WINDOW`` sequence numbers; one sequence number belongs to at most one event id;
- ``high`` is the highest sequence number seen; every number below it that was never
  seen is in an open gap until it arrives (a late event fills it), the newest
  ``MAX_OPEN_GAPS`` gaps are kept;
- an event older than the window is refused, not guessed: it may have been taken, and
  its id is no longer remembered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ID_WINDOW = 65_536  # sequence numbers whose event ids are remembered
MAX_OPEN_GAPS = 256
Gap = tuple[int, int]  # first and last missing sequence number


def advance(high: int, gaps: list[Gap], sequence: int) -> tuple[int, list[Gap], Gap | None]:
    """``high`` and the open gaps once ``sequence`` was seen, and the gap it opened."""
    if sequence > high + 1:
        opened = (high + 1, sequence - 1)
        return sequence, [*gaps, opened][-MAX_OPEN_GAPS:], opened
    if sequence == high + 1:
        return sequence, gaps, None
    return high, _fill(gaps, sequence), None


def _fill(gaps: list[Gap], sequence: int) -> list[Gap]:
    kept: list[Gap] = []
    for first, last in gaps:
        if first <= sequence <= last:
            kept.extend(g for g in ((first, sequence - 1), (sequence + 1, last)) if g[0] <= g[1])
        else:
            kept.append((first, last))
    return kept


@dataclass(slots=True)
class Receipts:
    ids: dict[str, int] = field(default_factory=dict)  # event id -> its sequence number
    by_sequence: dict[int, str] = field(default_factory=dict)
    high: int = 0
    gaps: list[Gap] = field(default_factory=list)

    def known(self, event_id: str, sequence: int) -> tuple[bool, str | None]:
        """(duplicate?, why refused): was it received, or why can it not be taken."""
        if event_id in self.ids:
            return True, None
        holder = self.by_sequence.get(sequence)
        if holder is not None:
            return False, f"sequence {sequence} already belongs to event {holder!r}"
        if sequence <= self.high - ID_WINDOW:
            return False, f"sequence {sequence} is older than the last {ID_WINDOW} this device sent"
        return False, None

    def see(self, sequence: int) -> None:
        self.high, self.gaps, _ = advance(self.high, self.gaps, sequence)

    def take(self, event_id: str, sequence: int) -> None:
        self.ids[event_id] = sequence
        self.by_sequence[sequence] = event_id

    def forget_old(self) -> None:
        """Drop ids and gaps that left the window (amortised: only when it overflowed)."""
        if len(self.ids) <= ID_WINDOW + ID_WINDOW // 8:
            return
        floor = self.high - ID_WINDOW
        self.ids = {i: s for i, s in self.ids.items() if s > floor}
        self.by_sequence = {s: i for s, i in self.by_sequence.items() if s > floor}
        self.gaps = [g for g in self.gaps if g[1] > floor]
