"""A retry that races its original (the client gave up waiting and sent it again, to
another process): it must get the original's answer, not a refusal of the request by
the state the original left (found by tests/reliability's several-processes suite: a
session's second end with the same key answered 409 "already ended")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapters.secrets import SecretSealer
from domain.model.bank_connectors import BankProvider, SealedSecret
from domain.services.bank_connectors import register_bank_connector
from domain.services.unit_of_work import RequestKey, execute


class CheckedBeforeTheOriginalCommitted:
    """The store as the retry saw it: its first look for the key came before the
    original committed (so it found none); everything else is the real store."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self._looked = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def find_idempotency(self, client_id: str, key: str) -> Any:
        if not self._looked:
            self._looked = True
            return None
        return await self._store.find_idempotency(client_id, key)


async def test_a_retry_refused_by_its_originals_effect_gets_the_originals_answer(store: Any) -> None:
    sealed = SealedSecret(SecretSealer(None).seal(b"secret-0123456789abcdef"))
    at = datetime.now(UTC)
    key = RequestKey.of("admin", "connector-1", {"name": "payos"})
    original = await execute(store, register_bank_connector("payos", BankProvider.PAYOS, sealed, at), key)
    head = await store.head()
    retry = await execute(
        CheckedBeforeTheOriginalCommitted(store),
        register_bank_connector("payos", BankProvider.PAYOS, sealed, at),
        key,
    )
    assert retry.replayed
    assert retry.result == original.result
    assert (await store.head()).position == head.position
