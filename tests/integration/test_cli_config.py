"""The configuration as an operator gives it: a TOML file (``--config`` or
``CITYSETTLE_CONFIG``) under the environment, ``citysettle config check``, and bad values
named at start by the real commands (issue 11, Configuration)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

from tests.support.cli import ROOT, citysettle, settings_only
from tests.support.live import free_port

KEY = base64.b64encode(bytes(range(7, 39))).decode()  # tests only


def test_config_check_prints_the_effective_configuration_as_toml_without_secrets(tmp_path: Path) -> None:
    file = tmp_path / "citysettle.toml"
    file.write_text(f'store = "postgresql://app:s3cret@db/cs"\ncipher_key = "{KEY}"\nport = 9000\n', encoding="utf-8")
    done = citysettle(
        "--config",
        str(file),
        "config",
        "check",
        env={"CITYSETTLE_PORT": "9100", "CITYSETTLE_HOST": "0.0.0.0"},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    shown = tomllib.loads(done.stdout)  # a file the service could read again (secrets masked)
    assert shown["store"] == "postgresql://app:***@db/cs"
    assert shown["cipher_key"] == "***"
    assert (shown["port"], shown["host"], shown["log_format"]) == (9100, "0.0.0.0", "json")
    assert "s3cret" not in done.stdout
    assert KEY not in done.stdout
    assert f"# CITYSETTLE_STORE, file {file}" in done.stdout
    assert "# CITYSETTLE_PORT, environment" in done.stdout
    assert "# CITYSETTLE_WALLET_PAYEE, default" in done.stdout


def test_config_check_names_every_bad_value_and_exits_2(tmp_path: Path) -> None:
    file = tmp_path / "citysettle.toml"
    file.write_text('port = "eighty"\nchekpoint_interval_s = 5\n', encoding="utf-8")
    env = {
        "CITYSETTLE_CONFIG": str(file),
        "CITYSETTLE_CIPHER_KEY": "c2hvcnQ=",
        "CITYSETTLE_CHECKPOINT_KEY_FILE": str(tmp_path / "missing.pem"),
        "CITYSETTLE_LOG_LEVEL": "loud",
        "CITYSETTLE_COMPRES": "1",
    }
    done = citysettle("config", "check", env=env, timeout=60)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    said = done.stderr.splitlines()
    warning = "CITYSETTLE_COMPRES is not a setting (a typo?): `citysettle config check` lists them"
    assert said[0] == f"citysettle config: warning: {warning}"
    assert said[1:] == [
        f"citysettle config: port in {file} must be an integer, got 'eighty'",
        f"citysettle config: unknown key 'chekpoint_interval_s' in {file}; the keys are: "
        + ", ".join(tomllib.loads(done.stdout)),
        "citysettle config: CITYSETTLE_CIPHER_KEY decodes to 5 bytes; it must be the base64 of a 16-, 24- or 32-byte "
        "AES key (e.g. `openssl rand -base64 32`)",
        "citysettle config: CITYSETTLE_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, got 'loud'",
        f"citysettle config: CITYSETTLE_CHECKPOINT_KEY_FILE: the checkpoint signing key {tmp_path / 'missing.pem'} "
        "cannot be read: No such file or directory",
    ]  # fmt: skip
    assert "c2hvcnQ=" not in done.stdout + done.stderr
    assert "port = 8080  # CITYSETTLE_PORT, REFUSED" in done.stdout


def test_a_bad_file_value_stops_any_command_at_start_naming_its_key(tmp_path: Path) -> None:
    file = tmp_path / "citysettle.toml"
    file.write_text("port = 70000\n", encoding="utf-8")
    for command in (["serve"], ["clients", "list"], ["audit", "verify"]):
        done = citysettle(*command, env={"CITYSETTLE_CONFIG": str(file)}, timeout=30)
        assert done.returncode == 2, command
        assert done.stderr.strip() == (
            f"citysettle: configuration error: port in {file} must be between 1 and 65535, got 70000"
        ), command


def test_serve_workers_take_their_settings_from_the_file(tmp_path: Path) -> None:
    port = free_port()
    file = tmp_path / "citysettle.toml"
    file.write_text(f'store = "sqlite:///{tmp_path}/events.db"\nport = {port}\nlog_format = "text"\n', encoding="utf-8")
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "ops.cli", "--config", str(file), "serve", "--workers", "2"],
            cwd=ROOT,
            env=settings_only(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        answer = None
        end = time.monotonic() + 60
        while answer is None and time.monotonic() < end:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                    answer = json.loads(response.read())
            except OSError:
                time.sleep(0.2)
        assert answer is not None, log.read_text()
        assert answer["status"] == "ready"
    finally:
        process.terminate()
        process.wait(30)
    lines = log.read_text(encoding="utf-8").splitlines()
    assert any("ops.serving" in line and "starting 2 workers" in line for line in lines)
    assert not any(line.startswith("{") for line in lines), "the file's log_format = text reached every process"
