"""The API clients of the demo, one of every role, with their key files.

Each client is registered with `register_client` (what ``citysettle clients add`` runs)
and an Ed25519 key whose private half is written to ``KEYS/<client>.pem`` (PKCS#8 PEM,
mode 0600). The keys follow from the seed, so a seed always gives the same events; they
are demo keys, printed in the demo's own folder: never use them for real money. The bank
connector's secret likewise, written beside them.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.secrets import SecretSealer
from domain.model.bank_connectors import BankProvider, SealedSecret
from domain.model.clients import KeyAlgorithm, Role
from domain.services.bank_connectors import register_bank_connector
from domain.services.clients import register_client
from domain.services.unit_of_work import UseCase
from ops.demo.catalogue import JUSTICE, WARD
from ops.demo.day import DemoDay

BANK_CONNECTOR = "vcb-casso"


@dataclass(frozen=True, slots=True)
class DemoClient:
    client_id: str
    name: str
    role: Role
    scope: tuple[str, ...] = ()


CLIENTS = (
    DemoClient("demo-admin", "Phòng Kinh tế phường (quản trị)", Role.ADMIN),
    DemoClient("demo-counter", "Quầy một cửa phường Hoàn Kiếm", Role.TERMINAL, (WARD, JUSTICE)),
    DemoClient("demo-attendant", "Máy cầm tay nhân viên trông xe", Role.TERMINAL),
    DemoClient("demo-app", "Ứng dụng iHanoi", Role.APP),
    DemoClient("demo-gate", "Cổng vào bãi Lý Thái Tổ", Role.DEVICE, ("gate-ltt-in",)),
    DemoClient("demo-bank", "Vietcombank (cổng thông báo)", Role.BANK),
    DemoClient("demo-finance", "Phòng Tài chính - Kế toán", Role.FINANCE),
    DemoClient("demo-auditor", "Kiểm toán nhà nước", Role.AUDITOR),
)


def private_key(day: DemoDay, client: DemoClient) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(day.secret(f"client/{client.client_id}"))


def key_file(keys: Path, client: DemoClient) -> Path:
    return keys / f"{client.client_id}.pem"


def write_private(path: Path, content: bytes) -> None:
    """Write a secret file readable by its owner only (replacing the demo's own earlier one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(content)


def write_key_files(day: DemoDay, keys: Path) -> None:
    for client in CLIENTS:
        pem = private_key(day, client).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        write_private(key_file(keys, client), pem)
    write_private(keys / f"{BANK_CONNECTOR}.secret", base64.b64encode(bank_secret(day)) + b"\n")


def client_use_cases(day: DemoDay) -> list[UseCase]:
    use_cases = []
    for client in CLIENTS:
        public = private_key(day, client).public_key()
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        use_cases.append(
            register_client(
                client_id=client.client_id,
                name=client.name,
                role=client.role,
                scope=client.scope,
                algorithm=KeyAlgorithm.ED25519,
                material=base64.b64encode(raw).decode(),
                at=day.set_up_at,
            )
        )
    return use_cases


def bank_secret(day: DemoDay) -> bytes:
    return day.secret(f"bank/{BANK_CONNECTOR}")


def bank_connector_use_case(day: DemoDay, sealer: SecretSealer) -> UseCase:
    sealed = SealedSecret(sealer.seal(bank_secret(day)))
    return register_bank_connector(BANK_CONNECTOR, BankProvider.CASSO, sealed, day.set_up_at)
