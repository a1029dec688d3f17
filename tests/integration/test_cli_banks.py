"""`citysettle banks add` as an operator runs it, on each store."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.eventstore.codec import CodecOptions
from adapters.secrets import SEALED, SecretSealer
from domain.services.bank_connectors import find_bank_connector
from ops.config import Config
from ops.stores import open_store

SECRET = "1a54716c8f0efb2744fb28b6e38b25da7f67a925d98bc1c18bd8faaecadd7675"


def banks_add(store_url: str, *args: str, cipher_key: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYSETTLE_")}
    if cipher_key:
        env["CITYSETTLE_CIPHER_KEY"] = cipher_key
    command = [sys.executable, "-m", "ops.cli", "banks", "add", *args, "--store", store_url]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "payos.key"
    path.write_text(SECRET + "\n")
    return path


async def test_a_connector_is_registered_with_its_secret_sealed(store_url: str, secret_file: Path) -> None:
    cipher_key = base64.b64encode(os.urandom(32)).decode()
    done = banks_add(store_url, "--provider", "payos", "--secret-file", str(secret_file), cipher_key=cipher_key)
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout + done.stderr
    assert '"name": "payos"' in done.stdout
    assert '"secret_encrypted": true' in done.stdout
    store = await open_store(Config(store_url=store_url, codec=CodecOptions(cipher_key=cipher_key)))
    try:
        connector = await find_bank_connector(store, "payos")
    finally:
        await store.close()
    assert connector is not None
    assert connector.secret.value.startswith(SEALED)
    assert SECRET not in connector.secret.value
    assert SecretSealer(cipher_key).open(connector.secret.value) == SECRET.encode()


async def test_without_a_cipher_key_it_warns(store_url: str, secret_file: Path) -> None:
    done = banks_add(store_url, "--provider", "sepay", "--name", "sepay-vcb", "--secret-file", str(secret_file))
    assert done.returncode == 0, done.stderr
    assert "stored unencrypted" in done.stderr
    assert '"name": "sepay-vcb"' in done.stdout


async def test_refusals_are_one_line_and_exit_2(store_url: str, secret_file: Path, tmp_path: Path) -> None:
    assert banks_add(store_url, "--provider", "casso", "--secret-file", str(secret_file)).returncode == 0
    empty = tmp_path / "empty"
    empty.write_text("\n")
    cases = {
        "already registered": ["--provider", "casso", "--secret-file", str(secret_file)],
        "lower-case letters": ["--provider", "casso", "--name", "Casso BIDV", "--secret-file", str(secret_file)],
        "cannot read the secret file": ["--provider", "casso", "--name", "c2", "--secret-file", str(tmp_path / "no")],
        "is empty": ["--provider", "casso", "--name", "c3", "--secret-file", str(empty)],
    }
    for expected, args in cases.items():
        done = banks_add(store_url, *args)
        assert done.returncode == 2, (expected, done.stderr)
        lines = [line for line in done.stderr.splitlines() if "banks add" in line]
        assert len(lines) == 1, done.stderr
        assert expected in lines[0], done.stderr
        assert "Traceback" not in done.stderr


def banks_rotate(store_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYSETTLE_")}
    command = [sys.executable, "-m", "ops.cli", "banks", "rotate", *args, "--store", store_url]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)


async def test_a_rotation_is_recorded_and_the_old_secret_ends_after_its_grace(
    store_url: str, secret_file: Path, tmp_path: Path
) -> None:
    assert banks_add(store_url, "--provider", "payos", "--secret-file", str(secret_file)).returncode == 0
    new_secret = tmp_path / "payos-2.key"
    new_secret.write_text("d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f")
    done = banks_rotate(store_url, "--name", "payos", "--secret-file", str(new_secret), "--grace-s", "600")
    assert done.returncode == 0, done.stderr
    assert "d0e1f2a3" not in done.stdout + done.stderr
    assert '"rotations": 1' in done.stdout
    store = await open_store(Config(store_url=store_url))
    try:
        connector = await find_bank_connector(store, "payos")
        assert connector is not None
        events = await store.load(connector.id)
    finally:
        await store.close()
    assert [type(e).__name__ for e in events] == ["Registered", "SecretRotated"]
    assert connector.previous_valid_until is not None
    opened = [SecretSealer(None).open(s.value) for s in connector.secrets_at(connector.modified_on)]
    assert opened == [b"d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f", SECRET.encode()], "the old one during its grace"
    assert len(connector.secrets_at(connector.previous_valid_until)) == 1, "and not after"


async def test_rotation_refusals_are_one_line_and_exit_2(store_url: str, secret_file: Path, tmp_path: Path) -> None:
    assert banks_add(store_url, "--provider", "casso", "--secret-file", str(secret_file)).returncode == 0
    cases = {
        "no bank connector named 'payos'": ["--name", "payos", "--secret-file", str(secret_file)],
        "current secret": ["--name", "casso", "--secret-file", str(secret_file)],
        "--grace-s must be 0 to 86400": ["--name", "casso", "--secret-file", str(secret_file), "--grace-s", "-1"],
    }
    for expected, args in cases.items():
        done = banks_rotate(store_url, *args)
        assert done.returncode == 2, (expected, done.stderr)
        lines = [line for line in done.stderr.splitlines() if "banks rotate" in line]
        assert len(lines) == 1, done.stderr
        assert expected in lines[0], done.stderr
        assert "Traceback" not in done.stderr
    missing = banks_rotate(f"sqlite:///{tmp_path}/none.db", "--name", "casso", "--secret-file", str(secret_file))
    assert missing.returncode == 2, missing.stderr
    assert "no event store" in missing.stderr
