"""An operator's ordinary mistakes, made on the real command line: each ends in one line
saying what to fix and a non-zero exit (2), never a traceback, and changes nothing
(issue 9, item 11: --out not writable, malformed key files, a port in use, a bad or
wrong cipher key, a store written with another codec)."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from adapters.eventstore.base import redacted_url
from adapters.eventstore.codec import CodecOptions
from ops.config import Config
from ops.stores import open_store
from tests.integration.test_settlement_batches import DAY, MORNING
from tests.support import cli
from tests.support.cli import ROOT, new_store
from tests.support.fixtures import BANK_FIXTURES
from tests.support.settlement import AGENCY_ACCOUNT, collect, payee_directory

KEY_A = base64.b64encode(bytes(range(32))).decode()  # tests only
KEY_B = base64.b64encode(bytes(range(1, 33))).decode()
STATEMENT = BANK_FIXTURES / "camt053_v2_minimal__genkgo.xml"
AGENCY = "payable:agency:so-tu-phap"


def citysettle(
    *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """The real command, with only the ``CITYSETTLE_*`` variables given here."""
    return cli.citysettle(*args, env=env or {}, cwd=cwd, timeout=timeout)


def one_line(result: subprocess.CompletedProcess[str], code: int = 2) -> str:
    """The single ``citysettle…`` line of stderr; exit ``code``, no traceback."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == code, result.stderr
    said = [line for line in result.stderr.splitlines() if line.startswith("citysettle")]
    assert len(said) == 1, result.stderr
    return said[0]


def events_in(url: str, codec: CodecOptions | None = None) -> int:
    async def count() -> int:
        store = await open_store(Config(store_url=url, codec=codec or CodecOptions()), create=False, decodes=False)
        try:
            return (await store.head()).position
        finally:
            await store.close()

    return asyncio.run(count())


def seeded(url: str, codec: CodecOptions | None = None) -> str:
    """A store holding one paid fee invoice of DAY (so there is something to settle)."""

    async def seed() -> None:
        store = await open_store(Config(store_url=url, codec=codec or CodecOptions()))
        try:
            await collect(store, "HS-E1", "counter", MORNING)
        finally:
            await store.close()

    asyncio.run(seed())
    return url


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_text("not a folder\n", encoding="utf-8")
    return path


# --- --out that cannot be written --------------------------------------------------------


def reconcile(url: str, out: Path) -> subprocess.CompletedProcess[str]:
    return citysettle("reconcile", "--statement", str(STATEMENT), "--store", url, "--out", str(out))


@pytest.mark.parametrize("where", ["the file itself", "a folder under a file"])
def test_reconcile_out_that_is_not_a_folder_records_nothing(
    store_url: str, a_file: Path, tmp_path: Path, where: str
) -> None:
    seeded(store_url)
    before = events_in(store_url)
    out = a_file if where == "the file itself" else a_file / "reports"
    line = one_line(reconcile(store_url, out))
    assert line.startswith(f"citysettle reconcile: cannot write the reports to {out}: ")
    assert "give --out a folder you can write" in line
    assert events_in(store_url) == before, "a run whose reports could not be written is not recorded"
    done = reconcile(store_url, tmp_path / "reports")
    assert done.returncode == 3, done.stderr  # the fixture's line is not in the ledger: one exception
    assert (tmp_path / "reports" / "report.html").is_file()


def settle(url: str, directory: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return citysettle(
        "settle", "--date", DAY.isoformat(), "--payees", str(directory), "--by", "ketoan.nguyen", "--store", url,
        "--out", str(out),
    )  # fmt: skip


@pytest.mark.parametrize("where", ["a folder", "a file under a file", "a missing folder"])
def test_settle_out_that_cannot_be_written_closes_nothing(
    store_url: str, a_file: Path, tmp_path: Path, where: str
) -> None:
    seeded(store_url)
    directory = payee_directory(tmp_path / "payees.json", {AGENCY: AGENCY_ACCOUNT})
    out = {
        "a folder": tmp_path,
        "a file under a file": a_file / "p.xml",
        "a missing folder": tmp_path / "typo" / "p.xml",
    }
    before = events_in(store_url)
    line = one_line(settle(store_url, directory, out[where]))
    assert line.startswith(f"citysettle settle: refused: cannot write the payout file {out[where]}: ")
    assert "give --out a file name in a folder you can write" in line
    assert events_in(store_url) == before, "nothing closed"
    assert not list(tmp_path.glob("*.partial"))
    assert not (tmp_path / "typo").exists()
    done = settle(store_url, directory, tmp_path / "payout.xml")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["total_vnd"] == 200_000


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("command", [["export", "events"], ["clients", "list"], ["audit", "verify"]])
def test_output_to_a_full_disk_is_one_line(tmp_path: Path, command: list[str]) -> None:
    url = seeded(f"sqlite:///{tmp_path}/events.db")
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "ops.cli", *command, "--store", url],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            cwd=ROOT,
            timeout=60,
        )
    line = one_line(result)
    assert line == "citysettle: cannot write the output: No space left on device"


# --- checkpoint key files and key rings ---------------------------------------------------


MALFORMED_RINGS = {
    "not JSON": ("garbage\n", "is not JSON (line 1, column 1)"),
    "a list": ("[1, 2]\n", "is not a JSON object"),
    "a number for a key": ('{"ed25519:00": 5}\n', "key ed25519:00 is not base64 text"),
    "bad base64": ('{"ed25519:00": "@@@"}\n', "key ed25519:00 is not base64 text"),
    "a short key": ('{"ed25519:00": "AAAA"}\n', "key ed25519:00 is not a 32-byte Ed25519 public key"),
}


@pytest.fixture(params=sorted(MALFORMED_RINGS))
def malformed_ring(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, str]:
    content, said = MALFORMED_RINGS[request.param]
    path = tmp_path / "ring.json"
    path.write_text(content, encoding="utf-8")
    return path, said


EXPECTED_RING = "expected {key id: base64 public key} as `citysettle audit keygen` writes it"


@pytest.mark.parametrize("command", [["audit", "verify"], ["export", "checkpoints"]])
def test_a_malformed_keyring_says_what_is_wrong_and_what_is_expected(
    tmp_path: Path, malformed_ring: tuple[Path, str], command: list[str]
) -> None:
    url = seeded(f"sqlite:///{tmp_path}/events.db")
    ring, said = malformed_ring
    line = one_line(citysettle(*command, "--store", url, "--keyring", str(ring)))
    assert line == f"citysettle: the checkpoint key ring {ring} {said}; {EXPECTED_RING}"
    from_env = citysettle(*command, "--store", url, env={"CITYSETTLE_CHECKPOINT_KEYRING": str(ring)})
    assert one_line(from_env) == line


def test_keygen_into_a_malformed_keyring_writes_no_key(tmp_path: Path, malformed_ring: tuple[Path, str]) -> None:
    ring, said = malformed_ring
    before = ring.read_bytes()
    key = tmp_path / "k.pem"
    line = one_line(citysettle("audit", "keygen", "--key", str(key), "--keyring", str(ring)))
    assert line == f"citysettle: the checkpoint key ring {ring} {said}; {EXPECTED_RING}"
    assert not key.exists(), "a key whose public half is in no key ring would sign unverifiable checkpoints"
    assert ring.read_bytes() == before


def test_keygen_with_a_folder_for_the_keyring_writes_no_key(tmp_path: Path) -> None:
    key = tmp_path / "k.pem"
    line = one_line(citysettle("audit", "keygen", "--key", str(key), "--keyring", str(tmp_path)))
    assert line == f"citysettle: the checkpoint key ring {tmp_path} cannot be read: Is a directory"
    assert not key.exists()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(url: str, *more: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``serve`` that must refuse to start: it would run (until the timeout) otherwise."""
    return citysettle("serve", "--store", url, "--port", str(free_port()), *more, env=env, timeout=30)


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (None, "cannot be read: No such file or directory"),
        (b"not a pem\n", "is not a PEM private key"),
        (b"", "is not a PEM private key"),
    ],
)
@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_with_an_unusable_checkpoint_key_does_not_start(
    tmp_path: Path, content: bytes | None, said: str, workers: str
) -> None:
    key = tmp_path / "checkpoint.pem"
    if content is not None:
        key.write_bytes(content)
    url = f"sqlite:///{tmp_path}/events.db"
    line = one_line(serve(url, "--workers", workers, env={"CITYSETTLE_CHECKPOINT_KEY_FILE": str(key)}))
    assert line == (
        f"citysettle: configuration error: CITYSETTLE_CHECKPOINT_KEY_FILE: the checkpoint signing key {key} {said}; "
        "give the PEM file `citysettle audit keygen --key` wrote"
    )


# --- the port and the host ---------------------------------------------------------------


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_on_a_port_in_use_says_so(tmp_path: Path, taken_port: int, workers: str) -> None:
    url = f"sqlite:///{tmp_path}/events.db"
    result = citysettle("serve", "--store", url, "--port", str(taken_port), "--workers", workers, timeout=30)
    assert one_line(result) == (
        f"citysettle: configuration error: port {taken_port} on 127.0.0.1 is already in use; "
        "stop what listens there or choose another --port"
    )


def test_serve_on_an_address_this_machine_does_not_have(tmp_path: Path) -> None:
    # 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never on a real interface; binding sends nothing
    line = one_line(serve(f"sqlite:///{tmp_path}/events.db", "--host", "192.0.2.1"))
    assert line.startswith("citysettle: configuration error: cannot listen on 192.0.2.1 port ")
    assert line.endswith(": it is not an address of this machine; give --host one of its addresses or 0.0.0.0")


# --- the cipher key ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "said"),
    [
        ("not base64!!", "is not base64 text"),
        ("YWJj", "decodes to 3 bytes"),
        (base64.b64encode(bytes(20)).decode(), "decodes to 20 bytes"),
    ],
)
@pytest.mark.parametrize("command", [["clients", "list"], ["audit", "replay"], ["serve"]])
def test_a_malformed_cipher_key_is_named_without_showing_it(
    tmp_path: Path, key: str, said: str, command: list[str]
) -> None:
    url = f"sqlite:///{tmp_path}/events.db"
    line = one_line(citysettle(*command, "--store", url, env={"CITYSETTLE_CIPHER_KEY": key}, timeout=30))
    assert line == (
        f"citysettle: configuration error: CITYSETTLE_CIPHER_KEY {said}; it must be the base64 of a 16-, 24- or "
        "32-byte AES key (e.g. `openssl rand -base64 32`)"
    )
    assert key not in line
    assert not (tmp_path / "events.db").exists()


def encrypted_store(url: str) -> str:
    return seeded(url, CodecOptions(cipher_key=KEY_A))


WITHOUT_KEY = (
    "its events are encrypted or compressed: set CITYSETTLE_CIPHER_KEY and CITYSETTLE_COMPRESS as when it was written"
)
WRONG_KEY = (
    "they do not decode with this CITYSETTLE_CIPHER_KEY: give the key (and CITYSETTLE_COMPRESS) it was written with"
)

DECODING_COMMANDS: dict[str, Sequence[str]] = {
    "clients list": ["clients", "list"],
    "audit replay": ["audit", "replay"],
    "settle": ["settle", "--date", DAY.isoformat(), "--paying-account", "970436:0011004455667:KHO BAC", "--by", "u"],
    "reconcile": ["reconcile", "--statement", str(STATEMENT)],
    "serve": ["serve", "--port", "1"],  # refused before it would listen
}


@pytest.mark.parametrize("name", sorted(DECODING_COMMANDS))
@pytest.mark.parametrize("key", [None, KEY_B], ids=["without the key", "with the wrong key"])
def test_an_encrypted_store_needs_its_own_key(store_url: str, tmp_path: Path, name: str, key: str | None) -> None:
    encrypted_store(store_url)
    before = events_in(store_url)
    env = {"CITYSETTLE_CIPHER_KEY": key} if key else {}
    result = citysettle(*DECODING_COMMANDS[name], "--store", store_url, env=env, cwd=tmp_path, timeout=30)
    line = one_line(result)
    assert f"cannot decode the events of the store at {redacted_url(store_url)}: " in line
    assert line.endswith(WRONG_KEY if key else WITHOUT_KEY)
    assert KEY_A not in result.stderr
    assert KEY_B not in result.stderr
    assert events_in(store_url) == before


def test_a_plain_store_opened_with_a_key_is_named(tmp_path: Path) -> None:
    url = seeded(f"sqlite:///{tmp_path}/events.db")
    line = one_line(citysettle("clients", "list", "--store", url, env={"CITYSETTLE_CIPHER_KEY": KEY_A}))
    assert line.endswith(WRONG_KEY)


def test_a_compressed_store_opened_without_compression_is_named(tmp_path: Path) -> None:
    url = seeded(f"sqlite:///{tmp_path}/events.db", CodecOptions(compress=True))
    assert one_line(citysettle("audit", "replay", "--store", url)).endswith(WITHOUT_KEY)
    assert citysettle("clients", "list", "--store", url, env={"CITYSETTLE_COMPRESS": "1"}).returncode == 0


@pytest.mark.parametrize("command", [["audit", "verify"], ["export", "events"]])
def test_auditors_verify_and_export_an_encrypted_store_without_its_key(store_url: str, command: list[str]) -> None:
    encrypted_store(store_url)
    result = citysettle(*command, "--store", store_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


def test_the_right_key_opens_an_encrypted_store(tmp_path: Path) -> None:
    url = encrypted_store(f"sqlite:///{tmp_path}/events.db")
    result = citysettle("audit", "replay", "--store", url, env={"CITYSETTLE_CIPHER_KEY": KEY_A})
    assert result.returncode == 3, result.stderr  # decoded: the projections were never built ("behind")
    assert json.loads(result.stdout)["status"] == "behind"


# --- stores and URLs ---------------------------------------------------------------------


def test_a_sqlite_url_naming_a_file_that_is_not_a_database(tmp_path: Path, a_file: Path) -> None:
    a_file.write_bytes(b"x" * 4096)
    url = f"sqlite:///{a_file}"
    for command in (["clients", "list"], ["audit", "verify"], ["serve", "--port", "1"]):
        line = one_line(citysettle(*command, "--store", url, timeout=30))
        assert f"{url}: file is not a database" in line, command


@pytest.mark.parametrize("url", ["notaurl", "ftp://127.0.0.1", "http://"])
def test_call_with_a_url_that_is_not_http_is_one_line(tmp_path: Path, url: str) -> None:
    key = tmp_path / "hmac.key"
    key.write_text(base64.b64encode(bytes(32)).decode(), encoding="utf-8")
    line = one_line(citysettle("call", "GET", "/healthz", "--key", str(key), "--key-id", "k", "--url", url))
    assert line == f"citysettle call: --url {url!r} is not an http:// or https:// address with a host"


# --- files a command writes for the operator: a path it cannot write is exit 2 ----------------

QR = ["qr", "vietqr", "--bin", "970415", "--account", "0011001932418", "--amount", "120000", "--format", "png"]


@pytest.mark.parametrize("where", ["a missing folder", "a file under a file", "a folder"])
def test_qr_out_that_cannot_be_written_is_one_line_and_exit_2(a_file: Path, tmp_path: Path, where: str) -> None:
    out = {"a missing folder": tmp_path / "typo" / "qr.png", "a file under a file": a_file / "qr.png",
           "a folder": tmp_path}[where]  # fmt: skip
    line = one_line(citysettle(*QR, "--out", str(out)))
    assert line.startswith(f"citysettle qr vietqr: cannot write {out}: ")
    assert "give --out a file name in a folder you can write" in line
    assert not (tmp_path / "typo").exists()
    written = citysettle(*QR, "--out", str(tmp_path / "qr.png"))
    assert written.returncode == 0, written.stderr
    assert (tmp_path / "qr.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("where", ["a missing folder", "a file under a file", "a folder", "an existing key"])
def test_clients_key_out_that_cannot_be_written_records_no_client_and_exits_2(
    store_url: str, a_file: Path, tmp_path: Path, where: str
) -> None:
    url = new_store(store_url)
    existing = tmp_path / "old.pem"
    existing.write_text("a key kept elsewhere\n", encoding="utf-8")
    out = {"a missing folder": tmp_path / "typo" / "ops.pem", "a file under a file": a_file / "ops.pem",
           "a folder": tmp_path, "an existing key": existing}[where]  # fmt: skip
    before = events_in(url)
    add = ["clients", "add", "--name", "Ops", "--role", "admin", "--store", url, "--key-out", str(out)]
    line = one_line(citysettle(*add))
    assert line.startswith(f"citysettle clients add: cannot write {out}: "), line
    assert "--key-out" in line
    assert events_in(url) == before, "no client without its key"
    assert existing.read_text(encoding="utf-8") == "a key kept elsewhere\n", "a key file is never overwritten"
    done = citysettle(*add[:-1], str(tmp_path / "ops.pem"))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["role"] == "admin"
