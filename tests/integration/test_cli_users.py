"""``citysettle users``, used as an operator would: who may sign in to the finance desk."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import pytest

from domain.model.users import User, user_stream_id
from ops.config import Config
from ops.stores import open_store
from tests.integration.test_cli_clients import run
from tests.support.cli import citysettle
from tests.support.desk import PASSWORD


def password_file(tmp_path: Path, password: str = PASSWORD) -> str:
    path = tmp_path / "password.txt"
    path.write_text(password + "\n", encoding="utf-8")
    return str(path)


def stored(url: str, name: str) -> list[Any]:
    async def load() -> list[Any]:
        store = await open_store(Config(store_url=url))
        try:
            return list(await store.load(user_stream_id(name)))
        finally:
            await store.close()

    return asyncio.run(load())


def test_users_are_added_listed_and_disabled_as_events(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add = ["users", "add", "--password-file", password_file(tmp_path), "--store", store_url]
    code, out, err = run([*add, "--name", "lan", "--role", "finance"], capsys)
    assert code == 0, err
    assert out["name"] == "lan"
    assert out["role"] == "finance"
    assert out["disabled"] is False
    assert "password" not in out
    assert run([*add, "--name", "kiem", "--role", "auditor"], capsys)[0] == 0
    code, out, _ = run(["users", "list", "--store", store_url], capsys)
    assert [(u["name"], u["role"]) for u in out] == [("lan", "finance"), ("kiem", "auditor")]
    code, out, _ = run(["users", "disable", "--name", "lan", "--reason", "moved", "--store", store_url], capsys)
    assert (code, out["disabled"]) == (0, True)
    (registered, disabled) = stored(store_url, "lan")
    assert isinstance(registered, User.Registered)
    assert isinstance(disabled, User.Disabled)
    assert base64.b64decode(registered.password.removeprefix("plain:")).startswith(b"$argon2id$")


def test_refusals_are_one_line_and_exit_1(store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add = ["users", "add", "--role", "finance", "--store", store_url]
    code, _, err = run([*add, "--name", "lan", "--password-file", password_file(tmp_path, "short")], capsys)
    assert code == 1
    assert err.strip() == "citysettle users add: refused: a password has at least 12 characters"
    assert run([*add, "--name", "lan", "--password-file", password_file(tmp_path)], capsys)[0] == 0
    code, _, err = run([*add, "--name", "lan", "--password-file", password_file(tmp_path)], capsys)
    assert (code, err.strip()) == (1, "citysettle users add: refused: user lan already exists")
    code, _, err = run([*add, "--name", "Lan Nguyen", "--password-file", password_file(tmp_path)], capsys)
    assert code == 1
    assert "user name" in err
    missing = tmp_path / "none.txt"
    code, _, err = run([*add, "--name", "an", "--password-file", str(missing)], capsys)
    assert code == 1
    assert "cannot read --password-file" in err


def test_without_a_terminal_or_file_it_says_what_to_do(tmp_path: Path) -> None:
    done = citysettle("users", "add", "--name", "lan", "--role", "finance", "--store", f"sqlite:///{tmp_path}/e.db")
    assert done.returncode == 1
    assert done.stderr.strip().endswith("no terminal to ask for the password: give --password-file FILE")
    assert PASSWORD not in done.stdout + done.stderr
