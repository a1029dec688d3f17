"""Every command that opens the event store says in one line why it cannot, exit 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.fixtures import BANK_FIXTURES
from tests.support.settlement import payee_directory

REFUSED = "postgresql://citysettle@127.0.0.1:1/citysettle"  # nothing listens on port 1
UNKNOWN_HOST = "postgresql://citysettle@no-such-host.invalid/citysettle"  # .invalid never resolves (RFC 6761)

COMMANDS = {
    "serve": ["serve", "--port", "18089"],  # the store is refused before anything listens
    "audit verify": ["audit", "verify"],
    "audit replay": ["audit", "replay"],
    "export events": ["export", "events"],
    "clients list": ["clients", "list"],
    "reconcile": ["reconcile", "--statement", "STATEMENT"],
    "resolve": [
        "resolve",
        "--run",
        "00000000-0000-0000-0000-000000000001",
        "--case",
        "1",
        "--resolution",
        "acknowledge",
        "--reason",
        "checked",
        "--by",
        "ketoan.nguyen",
    ],
    "settle": ["settle", "--date", "2026-11-23", "--payees", "PAYEES", "--by", "ketoan.nguyen"],
}


def run(tmp_path: Path, command: list[str], store_url: str) -> subprocess.CompletedProcess[str]:
    files = {
        "STATEMENT": str(BANK_FIXTURES / "camt053_v2_minimal__genkgo.xml"),
        "PAYEES": str(payee_directory(tmp_path / "payees.json", {})),
    }
    argv = [files.get(arg, arg) for arg in command]
    return subprocess.run(
        [sys.executable, "-m", "ops.cli", *argv, "--store", store_url],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )


def one_line_refusal(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    said = [line for line in result.stderr.splitlines() if line.startswith("citysettle")]
    assert len(said) == 1, result.stderr
    return said[0]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_postgresql_server_that_refuses_connections_is_named(tmp_path: Path, name: str) -> None:
    line = one_line_refusal(run(tmp_path, COMMANDS[name], REFUSED))
    assert f"cannot open the event store at {REFUSED}: connection refused" in line
    assert "check --store or CITYSETTLE_STORE" in line


@pytest.mark.parametrize("name", ["audit verify", "clients list", "serve"])  # one path each: auditor, writer, service
def test_an_unknown_postgresql_host_is_named(tmp_path: Path, name: str) -> None:
    line = one_line_refusal(run(tmp_path, COMMANDS[name], UNKNOWN_HOST))
    assert f"cannot open the event store at {UNKNOWN_HOST}: unknown host" in line


def test_a_sqlite_store_under_a_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a folder", encoding="utf-8")
    url = f"sqlite:///{tmp_path}/notes.txt/events.db"
    line = one_line_refusal(run(tmp_path, ["clients", "list"], url))
    assert f"cannot open the event store at {url}:" in line


@pytest.mark.parametrize(
    ("command", "said"),
    [
        (["serve", "--port", "99999"], "--port must be between 1 and 65535, got 99999"),
        (["serve", "--port", "0"], "--port must be between 1 and 65535, got 0"),
        (
            ["reconcile", "--statement", "STATEMENT", "--tolerance-days", "-3"],
            "argument --tolerance-days: must be 0 or more, not -3",
        ),
    ],
)
def test_numbers_out_of_range_are_refused_before_anything_runs(tmp_path: Path, command: list[str], said: str) -> None:
    result = run(tmp_path, command, f"sqlite:///{tmp_path}/events.db")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert said in result.stderr.splitlines()[-1]
    assert not (tmp_path / "events.db").exists()


def test_keygen_creates_no_missing_folder(tmp_path: Path) -> None:
    for key, keyring in (
        (tmp_path / "typo" / "k.pem", tmp_path / "ring.json"),
        (tmp_path / "k.pem", tmp_path / "typo" / "ring.json"),
    ):
        result = subprocess.run(
            [sys.executable, "-m", "ops.cli", "audit", "keygen", "--key", str(key), "--keyring", str(keyring)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
            check=False,
        )
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert result.stderr.strip() == f"citysettle: folder {tmp_path / 'typo'} does not exist; create it first"
        assert not (tmp_path / "typo").exists()
        assert not key.exists()
        assert not keyring.exists()
