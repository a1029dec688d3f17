"""What the ledger's events post: the one definition of a posting, for every projection.

A posting is one entry that moved money for good, identified by its movement (the
transfer or hold it belongs to) and its entry index:

- a `Transfer.Posted` posts each of its entries (index = position in ``entries``);
- a `Hold.Posted` posts the amount it captured as two entries: 0, a debit of the hold's
  debit account; 1, a credit of its credit account. Placing a hold posts nothing (the
  money is only reserved); voiding or expiring it posts nothing either.

A hold's later events name no accounts, so the projection remembers each open hold in
its own rows (``hold:<id>``) from its placement until it ends. The ledger balances and
the settlement figures both read postings through `read_ledger_event`, so a movement
can never count in one and be missing from the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from domain.model.ledger import AccountKind, Side, account_kind, side_of
from domain.model.transfers import Hold, Transfer
from domain.ports import ProjectionView


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


def _hold_key(hold: UUID) -> str:
    return f"hold:{hold}"


async def read_ledger_event(event: DomainEventProtocol[Any], view: ProjectionView) -> LedgerChange | None:
    """The ledger change ``event`` makes, or None for events that move no money.
    Keeps the open holds in ``view`` (see the module docstring)."""
    if isinstance(event, Transfer.Posted):
        return _transfer_change(event)
    if isinstance(event, Hold.Placed):
        placed = OpenHold(event.debit_account, event.credit_account, event.amount_vnd, event.kind)
        view.put(_hold_key(event.originator_id), placed.as_dict())
        return LedgerChange(placed=placed)
    if isinstance(event, Hold.Posted | Hold.Voided | Hold.Expired):
        row = await view.get(_hold_key(event.originator_id))
        assert row is not None, "a hold event without its placement"
        view.delete(_hold_key(event.originator_id))
        hold = OpenHold.from_dict(row)
        if not isinstance(event, Hold.Posted):
            return LedgerChange(ended=hold)
        postings = (
            Posting(event.originator_id, 0, hold.debit_account, Side.DEBIT, event.amount_vnd),
            Posting(event.originator_id, 1, hold.credit_account, Side.CREDIT, event.amount_vnd),
        )
        return LedgerChange(posted=Movement(event.originator_id, hold.kind, event.timestamp, postings), ended=hold)
    return None


# A rebuild hands the same event to each projection in turn, and three of them read its
# postings: the change of the last transfer is made once. Safe to share: a transfer's
# change depends on the event alone, and it is frozen all the way down.
_last_transfer: list[tuple[Transfer.Posted, LedgerChange]] = []


def _transfer_change(event: Transfer.Posted) -> LedgerChange:
    if _last_transfer and _last_transfer[0][0] is event:
        return _last_transfer[0][1]
    postings = tuple(
        Posting(event.originator_id, index, e["account"], side_of(e["side"]), e["amount_vnd"])
        for index, e in enumerate(event.entries)
    )
    change = LedgerChange(posted=Movement(event.originator_id, event.kind, event.timestamp, postings))
    _last_transfer[:] = [(event, change)]
    return change
