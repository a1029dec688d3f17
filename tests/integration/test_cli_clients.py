"""``citysettle clients`` and ``citysettle call``, used as an operator would."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from ops.app import create_app
from ops.cli import build_parser
from ops.cli import call as cli_call
from ops.cli.clients import _add
from ops.config import Config

PAYEE = {"name": "So Tu phap Ha Noi", "kind": "agency"}


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, Any, str]:
    args = build_parser().parse_args(argv)
    code = args.handler(args)
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


def test_add_writes_a_private_key_0600_and_prints_the_client(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "admin.pem"
    code, out, _ = run(
        ["clients", "add", "--name", "Ops", "--role", "admin", "--key-out", str(key), "--store", store_url], capsys
    )
    assert code == 0
    assert set(out) == {"client_id", "key_id", "role", "algorithm"}
    assert out["role"] == "admin"
    assert out["algorithm"] == "ed25519"
    assert out["key_id"] == f"{out['client_id']}.k1"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert isinstance(load_pem_private_key(key.read_bytes(), None), Ed25519PrivateKey)
    code, listed, _ = run(["clients", "list", "--store", store_url], capsys)
    assert [c["client_id"] for c in listed] == [out["client_id"]]
    assert "material" not in json.dumps(listed)


def test_hmac_secret_is_shown_once_and_stored_sealed(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        ["clients", "add", "--name", "Bank", "--role", "bank", "--algorithm", "hmac-sha256", "--store", store_url],
        capsys,
    )
    assert code == 0
    assert len(out["secret"]) == 44  # base64 of 32 bytes
    code, listed, _ = run(["clients", "list", "--store", store_url], capsys)
    assert out["secret"] not in json.dumps(listed)


def test_refusals_are_one_line_and_leave_no_key_file(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["clients", "add", "--name", "x", "--role", "admin", "--store", store_url], capsys)
    assert code == 1
    assert err.count("\n") == 1
    assert "--key-out" in err
    key = tmp_path / "device.pem"
    argv = ["clients", "add", "--name", "Meter 7", "--role", "device", "--key-out", str(key), "--store", store_url]
    code, _, err = run(argv, capsys)  # a device must name its device id
    assert code == 1
    assert "scope" in err
    assert not key.exists()
    code, _, err = run(["clients", "revoke", "--client", "cl_none", "--reason", "x", "--store", store_url], capsys)
    assert code == 1
    assert "not found" in err


def test_rotate_and_revoke(store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, added, _ = run(
        [
            "clients",
            "add",
            "--name",
            "T",
            "--role",
            "terminal",
            "--scope",
            "lot-1",
            "--key-out",
            str(tmp_path / "a.pem"),
            "--store",
            store_url,
        ],
        capsys,
    )
    argv = [
        "clients",
        "rotate",
        "--client",
        added["client_id"],
        "--key-out",
        str(tmp_path / "b.pem"),
        "--grace-s",
        "60",
    ]
    code, rotated, _ = run([*argv, "--store", store_url], capsys)
    assert code == 0
    assert rotated["key_id"] == f"{added['client_id']}.k2"
    code, _, _ = run(
        ["clients", "revoke", "--client", added["client_id"], "--reason", "lost", "--store", store_url], capsys
    )
    assert code == 0
    _, listed, _ = run(["clients", "list", "--store", store_url], capsys)
    assert listed[0]["revoked"] is True
    assert listed[0]["scope"] == ["lot-1"]
    assert listed[0]["keys"][0]["valid_until"] is not None


@pytest.mark.parametrize("algorithm", ["ed25519", "hmac-sha256"])
async def test_call_signs_and_prints_the_answer(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], algorithm: str
) -> None:
    key = tmp_path / "admin.key"
    argv = ["clients", "add", "--name", "Ops", "--role", "admin", "--algorithm", algorithm, "--key-out", str(key)]
    args = build_parser().parse_args([*argv, "--store", store_url])
    added = await asyncio.to_thread(_add, args)  # it runs its own event loop, as from the shell
    server = TestServer(create_app(Config(store_url=store_url)))
    await server.start_server()
    try:
        url = str(server.make_url("/")).rstrip("/")
        data = json.dumps(PAYEE)
        call_args = build_parser().parse_args(
            [
                "call",
                "PUT",
                "/v1/payees/stp",
                "--data",
                data,
                "--key",
                str(key),
                "--key-id",
                added["key_id"],
                "--url",
                url,
            ]
        )
        status, _, body = await cli_call.call(call_args)
        assert status == 201
        assert json.loads(body)["payee_id"] == "stp"
    finally:
        await server.close()
