"""Finding the payee whose collection account a bank notice landed on, on each store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from domain.model.payees import BankAccount, PayeeKind
from domain.services.collection_accounts import CollectionAccounts, ReceivingAccount, find_collection_accounts
from domain.services.payees import put_payee
from domain.services.projections import ProjectionRunner
from domain.services.unit_of_work import execute
from ops.projections import replay

AT = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


def account(bank_bin: str, account_no: str) -> BankAccount:
    return BankAccount(bank_bin, account_no, "SO TU PHAP HA NOI")


async def put(store: Any, payee_id: str, collection: BankAccount | None) -> None:
    use_case = put_payee(
        payee_id=payee_id,
        name=payee_id,
        kind=PayeeKind.AGENCY,
        collection_account=collection,
        payout_account=None,
        at=AT,
    )
    await execute(store, use_case)


async def test_a_payee_registered_a_moment_ago_is_found(store: Any) -> None:
    await put(store, "so-tu-phap", account("970436", "0011004455667"))
    # no projection runner has run: the lookup catches the projection up itself
    assert await find_collection_accounts(store, store, "0011004455667") == [
        ReceivingAccount("970436", "0011004455667", ("so-tu-phap",))
    ]
    assert await find_collection_accounts(store, store, "999") == []


async def test_a_changed_account_moves_and_the_old_one_is_forgotten(store: Any) -> None:
    await put(store, "so-tu-phap", account("970436", "0011004455667"))
    await ProjectionRunner(store, store, CollectionAccounts()).catch_up()
    await put(store, "so-tu-phap", account("970418", "1200012345"))
    assert await find_collection_accounts(store, store, "1200012345") == [
        ReceivingAccount("970418", "1200012345", ("so-tu-phap",))
    ]
    assert await find_collection_accounts(store, store, "0011004455667") == []
    await put(store, "so-tu-phap", None)
    await ProjectionRunner(store, store, CollectionAccounts()).catch_up()
    assert await find_collection_accounts(store, store, "1200012345") == []


async def test_one_number_at_two_banks_is_two_owners(store: Any) -> None:
    await put(store, "so-tu-phap", account("970436", "0011004455667"))
    await put(store, "so-xay-dung", account("970418", "0011004455667"))
    owners = await find_collection_accounts(store, store, "0011004455667")
    assert [(o.bank_bin, o.payee_ids) for o in owners] == [("970418", ("so-xay-dung",)), ("970436", ("so-tu-phap",))]


async def test_agencies_sharing_a_treasury_account_are_all_listed(store: Any) -> None:
    await put(store, "so-tu-phap", account("970436", "0011004455667"))
    await put(store, "so-xay-dung", account("970436", "0011004455667"))
    await put(store, "so-tu-phap", account("970436", "222"))
    assert await find_collection_accounts(store, store, "0011004455667") == [
        ReceivingAccount("970436", "0011004455667", ("so-xay-dung",))
    ]


async def test_the_projection_replays_identically(store: Any) -> None:
    await put(store, "a", account("970436", "111"))
    await put(store, "b", account("970436", "222"))
    await put(store, "a", account("970436", "222"))
    await ProjectionRunner(store, store, CollectionAccounts()).catch_up()
    (outcome,) = (await replay(store, [CollectionAccounts()])).outcomes
    assert outcome.identical
    assert outcome.rows == 3  # account:222 (both payees), payee:a, payee:b; account:111 is gone
