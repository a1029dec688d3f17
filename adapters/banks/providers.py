"""Which adapter reads which provider's notifications."""

from __future__ import annotations

from collections.abc import Mapping

from adapters.banks.camt054 import Camt054Adapter
from adapters.banks.casso import CassoAdapter
from adapters.banks.notification import ProviderAdapter
from adapters.banks.payos import PayOSAdapter
from adapters.banks.sepay import SePayAdapter
from domain.model.bank_connectors import BankProvider

ADAPTERS: Mapping[BankProvider, ProviderAdapter] = {
    BankProvider.PAYOS: PayOSAdapter(),
    BankProvider.CASSO: CassoAdapter(),
    BankProvider.SEPAY: SePayAdapter(),
    BankProvider.CAMT054: Camt054Adapter(),
}
