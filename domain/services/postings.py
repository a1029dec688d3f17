"""What the ledger's events post: the one definition of a posting, for every projection.

A posting is one entry that moved money for good, identified by its movement (the
transfer or hold it belongs to) and its entry index:

- a `Transfer.Posted` posts each of its entries (index = position in ``entries``);
- a `Hold.Posted` posts the amount it captured as two entries: 0, a debit of the hold's
  debit account; 1, a credit of its credit account. Placing a hold posts nothing (the
  money is only reserved); voiding or expiring it posts nothing either.

A hold's later events name no accounts, so the projection remembers each open hold in
its own rows (``hold:<id>``) from its placement until it ends. Every projection of
money (ledger balances and entries, payees' postings, cash on hand, collections) reads
postings through `ledger_change` (`read_ledger_event` is the same as objects), so a
movement can never count in one and be missing from another.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from domain.model.ledger import AccountKind, Side, account_kind, side_of
from domain.model.transfers import Hold, Transfer
from domain.ports import ProjectionView, Rows


@dataclass(frozen=True, slots=True)
class Posting:
    movement_id: UUID  # the transfer's or the hold's id
    entry: int
    account: str
    side: Side
    amount_vnd: int

    @property
    def key(self) -> str:
        """Unique in the ledger: transfer and hold ids come from different namespaces."""
        return f"{self.movement_id}#{self.entry}"

    @property
    def account_kind(self) -> AccountKind:
        return account_kind(self.account)


@dataclass(frozen=True, slots=True)
class Movement:
    """The postings of one transfer, or of one hold's capture."""

    movement_id: UUID
    kind: str
    at: datetime
    postings: tuple[Posting, ...]
    kinds: frozenset[AccountKind] = field(init=False, repr=False, compare=False)  # of the accounts it touches

    def __post_init__(self) -> None:
        object.__setattr__(self, "kinds", frozenset(p.account_kind for p in self.postings))

    def touches(self, kind: AccountKind) -> bool:
        return kind in self.kinds

    def cash_flows(self) -> list[CashFlow]:
        """What this movement did to attendants' cash (``cash:<operator>``): a movement
        between cash and a bank account is a deposit (or the reversal of one); any other
        movement of cash is cash collected (or given back)."""
        if AccountKind.CASH not in self.kinds:
            return []
        deposit = self.touches(AccountKind.BANK_CLEARING)
        flows = []
        for posting in self.postings:
            if posting.account_kind is not AccountKind.CASH:
                continue
            operator = posting.account.split(":", 1)[1]
            if deposit:
                signed = posting.amount_vnd if posting.side is Side.CREDIT else -posting.amount_vnd
                flows.append(CashFlow(operator, 0, signed))
            else:
                signed = posting.amount_vnd if posting.side is Side.DEBIT else -posting.amount_vnd
                flows.append(CashFlow(operator, signed, 0))
        return flows


@dataclass(frozen=True, slots=True)
class CashFlow:
    operator_id: str
    collected_vnd: int  # signed: taken in by the attendants (negative: given back)
    deposited_vnd: int  # signed: paid into the bank (negative: a deposit reversed)


@dataclass(frozen=True, slots=True)
class OpenHold:
    debit_account: str
    credit_account: str
    amount_vnd: int
    kind: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "debit": self.debit_account,
            "credit": self.credit_account,
            "amount_vnd": self.amount_vnd,
            "kind": self.kind,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OpenHold:
        # Rows written before holds remembered their kind have none; a capture of such a
        # hold (wallet -> payee) is categorised by its side alone, which needs no kind.
        return cls(data["debit"], data["credit"], data["amount_vnd"], data.get("kind", "hold"))


@dataclass(frozen=True, slots=True)
class LedgerChange:
    """What one event did: money posted, a hold placed (reserved), a hold ended (unreserved)."""

    posted: Movement | None = None
    placed: OpenHold | None = None
    ended: OpenHold | None = None


LEDGER_EVENTS = (Transfer.Posted, Hold.Placed, Hold.Posted, Hold.Voided, Hold.Expired)
HOLD_ENDS = (Hold.Posted, Hold.Voided, Hold.Expired)

# What a ledger event did, as a page fold reads it (no object per posting): posted is
# (movement id, kind, time, entries) with entries as a transfer stores them
# ({"account", "side", "amount_vnd"}; a posting's entry index is its place in the list),
# placed and ended are the hold's row (`OpenHold.as_dict`). Never change what it returns.
Posted = tuple[UUID, str, datetime, Sequence[Mapping[str, Any]]]
Change = tuple[Posted | None, dict[str, Any] | None, dict[str, Any] | None]


def _hold_key(hold: UUID) -> str:
    return f"hold:{hold}"


def ledger_change(event: Any, rows: Rows) -> Change | None:
    """What ``event`` posts, places and ends, or None for events that move no money: the one
    definition of a posting (see the module docstring). Keeps the open holds in ``rows``."""
    cls = type(event)
    if cls is Transfer.Posted:
        return (event.originator_id, event.kind, event.timestamp, event.entries), None, None
    if cls is Hold.Placed:
        placed = OpenHold(event.debit_account, event.credit_account, event.amount_vnd, event.kind).as_dict()
        rows[_hold_key(event.originator_id)] = placed
        return None, placed, None
    if cls in HOLD_ENDS:
        key = _hold_key(event.originator_id)
        hold = rows.get(key)
        assert hold is not None, "a hold event without its placement"
        rows.pop(key, None)
        if cls is not Hold.Posted:
            return None, None, hold
        amount = event.amount_vnd
        entries = (
            {"account": hold["debit"], "side": Side.DEBIT.value, "amount_vnd": amount},
            {"account": hold["credit"], "side": Side.CREDIT.value, "amount_vnd": amount},
        )
        # Rows written before holds remembered their kind have none (`OpenHold.from_dict`).
        return (event.originator_id, hold.get("kind", "hold"), event.timestamp, entries), None, hold
    return None


async def read_ledger_event(event: DomainEventProtocol[Any], view: ProjectionView) -> LedgerChange | None:
    """`ledger_change` as objects, for a reader with an async `ProjectionView`."""
    if not isinstance(event, LEDGER_EVENTS):
        return None
    rows: dict[str, Any] = {}
    if isinstance(event, HOLD_ENDS):
        key = _hold_key(event.originator_id)
        rows[key] = await view.get(key)
    change = ledger_change(event, rows)
    assert change is not None
    posted, placed, ended = change
    if placed is not None:
        view.put(_hold_key(event.originator_id), dict(placed))
    if ended is not None:
        view.delete(_hold_key(event.originator_id))
    movement = None
    if posted is not None:
        movement_id, kind, at, entries = posted
        postings = tuple(
            Posting(movement_id, index, e["account"], side_of(e["side"]), e["amount_vnd"])
            for index, e in enumerate(entries)
        )
        movement = Movement(movement_id, kind, at, postings)
    return LedgerChange(
        posted=movement,
        placed=OpenHold.from_dict(placed) if placed is not None else None,
        ended=OpenHold.from_dict(ended) if ended is not None else None,
    )


def kinds_of(entries: Sequence[Mapping[str, Any]]) -> frozenset[AccountKind]:
    """The kinds of the accounts a movement's entries touch (`Movement.kinds`)."""
    return frozenset([account_kind(e["account"]) for e in entries])  # a list: no generator per call


def cash_flows_of(entries: Sequence[Mapping[str, Any]], kinds: frozenset[AccountKind]) -> list[tuple[str, int, int]]:
    """`Movement.cash_flows` of these entries, as (operator, collected, deposited)."""
    if AccountKind.CASH not in kinds:
        return []
    deposit = AccountKind.BANK_CLEARING in kinds
    flows = []
    for entry in entries:
        account = entry["account"]
        if account_kind(account) is not AccountKind.CASH:
            continue
        amount, credit = entry["amount_vnd"], entry["side"] == Side.CREDIT.value
        if deposit:
            flows.append((account.split(":", 1)[1], 0, amount if credit else -amount))
        else:
            flows.append((account.split(":", 1)[1], -amount if credit else amount, 0))
    return flows
