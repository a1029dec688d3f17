"""The finance desk's session key comes from CITYSETTLE_SESSION_KEY_FILE; a bad one is a
configuration error naming the file, and serve --workers gives all its workers one key."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ops.app import desk_tokens
from ops.config import Config, ConfigError
from ops.serving import Supervisor, _Slot

SID = "0123456789abcdef0123456789abcdef"


def test_the_key_file_signs_tokens_another_process_can_read(tmp_path: Path) -> None:
    key = tmp_path / "session.key"
    key.write_text(base64.b64encode(b"k" * 32).decode() + "\n", encoding="ascii")
    config = Config.from_env({"CITYSETTLE_SESSION_KEY_FILE": str(key)})
    expires = datetime.now(UTC) + timedelta(hours=1)
    token = desk_tokens(config).session("lan", SID, expires)
    assert desk_tokens(config).read_session(token, datetime.now(UTC)) is not None


@pytest.mark.parametrize("content", ["not base64!", base64.b64encode(b"short").decode()])
def test_a_bad_key_file_is_a_configuration_error(tmp_path: Path, content: str) -> None:
    key = tmp_path / "session.key"
    key.write_text(content, encoding="ascii")
    with pytest.raises(ConfigError, match="CITYSETTLE_SESSION_KEY_FILE"):
        desk_tokens(Config(session_key_file=key))
    with pytest.raises(ConfigError, match="CITYSETTLE_SESSION_KEY_FILE"):
        desk_tokens(Config(session_key_file=tmp_path / "missing.key"))


def test_the_workers_are_given_the_key_file(tmp_path: Path) -> None:
    key = tmp_path / "session.key"
    supervisor = Supervisor(Config(session_key_file=key), 2, str(tmp_path))
    assert supervisor._env(_Slot(1))["CITYSETTLE_SESSION_KEY_FILE"] == str(key)
