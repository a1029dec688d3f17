from __future__ import annotations

from pathlib import Path

import pytest

from adapters.eventstore.base import redacted_url
from ops.config import DEFAULT_STORE_URL, SETTINGS, Config, ConfigError, effective, load
from ops.ticket_signing import ticket_codes


def test_defaults_are_the_embedded_store_on_localhost() -> None:
    config = Config.from_env({})
    assert config.store_url == DEFAULT_STORE_URL
    assert (config.host, config.port) == ("127.0.0.1", 8080)
    assert config.codec.cipher_key is None
    assert config.checkpoint_key_file is None
    assert config.bank_notice_delay_s == 600


def test_environment_is_read_and_flags_override_it() -> None:
    env = {
        "CITYSETTLE_STORE": "postgresql://u:pw@db/x",
        "CITYSETTLE_PORT": "9000",
        "CITYSETTLE_COMPRESS": "1",
        "CITYSETTLE_BATCH_EVENTS_MAX": "500",
        "CITYSETTLE_CHECKPOINT_KEY_FILE": "/run/secrets/k.pem",
        "CITYSETTLE_BANK_NOTICE_DELAY_S": "1800",
    }
    config = Config.from_env(env).with_overrides(port=None, host="0.0.0.0")
    assert config.port == 9000
    assert config.host == "0.0.0.0"
    assert config.codec.compress is True
    assert config.batch_events_max == 500
    assert config.checkpoint_key_file == Path("/run/secrets/k.pem")
    assert config.bank_notice_delay_s == 1800


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CITYSETTLE_PORT": "eighty"}, "CITYSETTLE_PORT must be an integer"),
        ({"CITYSETTLE_PORT": "70000"}, "CITYSETTLE_PORT must be between 1 and 65535"),
        ({"CITYSETTLE_COMPRESS": "maybe"}, "CITYSETTLE_COMPRESS must be 0 or 1"),
        ({"CITYSETTLE_BATCH_EVENTS_MAX": "0"}, "CITYSETTLE_BATCH_EVENTS_MAX must be between"),
        ({"CITYSETTLE_BANK_NOTICE_DELAY_S": "-1"}, "CITYSETTLE_BANK_NOTICE_DELAY_S must be between 0 and 86400"),
        ({"CITYSETTLE_TICKET_KEY_ID": "65536"}, "CITYSETTLE_TICKET_KEY_ID must be between 0 and 65535"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Config.from_env(env)


KEY = "AAECAwQFBgcICQoLDA0ODw=="  # 16 bytes, tests only


def test_secrets_never_appear_in_repr() -> None:
    config = Config.from_env({"CITYSETTLE_STORE": "postgresql://app:s3cret@db/x", "CITYSETTLE_CIPHER_KEY": KEY})
    assert "s3cret" not in repr(config)
    assert KEY not in repr(config)
    assert redacted_url("postgresql://app:s3cret@db/x") == "postgresql://app:***@db/x"
    assert redacted_url("sqlite:///./var/x.db") == "sqlite:///./var/x.db"
    assert redacted_url("postgresql://db/x?password=s3cret&schema=a") == "postgresql://db/x?password=***&schema=a"


def test_cipher_key_is_not_in_the_codec_repr() -> None:
    assert KEY not in repr(Config.from_env({"CITYSETTLE_CIPHER_KEY": KEY}).codec)


def test_ticket_keys_are_read_from_the_environment() -> None:
    env = {
        "CITYSETTLE_TICKET_KEY_FILE": "/run/secrets/ticket.pem",
        "CITYSETTLE_TICKET_KEY_ID": "7",
        "CITYSETTLE_TICKET_KEYRING": "/run/secrets/ticket-keys.json",
    }
    config = Config.from_env(env)
    assert (config.ticket_key_file, config.ticket_key_id) == (Path("/run/secrets/ticket.pem"), 7)
    assert config.ticket_keyring_file == Path("/run/secrets/ticket-keys.json")
    assert Config.from_env({}).ticket_key_file is None


def test_a_bad_ticket_key_is_one_line_naming_the_variable(tmp_path: Path) -> None:
    not_a_key = tmp_path / "ticket.pem"
    not_a_key.write_text("hello")
    config = Config(store_url=f"sqlite:///{tmp_path}/events.db", ticket_key_file=not_a_key)
    with pytest.raises(ConfigError, match="CITYSETTLE_TICKET_KEY_FILE"):
        ticket_codes(config)
    keyring = tmp_path / "keys.json"
    keyring.write_text('{"keys": [{"kty": "RSA"}]}')
    with pytest.raises(ConfigError, match="CITYSETTLE_TICKET_KEYRING"):
        ticket_codes(Config(store_url=f"sqlite:///{tmp_path}/events.db", ticket_keyring_file=keyring))


# --- the TOML file, every problem at once, the documented settings ------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "citysettle.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_file_is_read_and_the_environment_overrides_it(tmp_path: Path) -> None:
    file = write(tmp_path, 'store = "postgresql://db/x"\nport = 9000\ncompress = true\nlog_level = "warning"\n')
    loaded = load({"CITYSETTLE_CONFIG": str(file), "CITYSETTLE_PORT": "9001", "CITYSETTLE_HOST": ""})
    config = loaded.config()
    assert (config.store_url, config.port, config.host) == ("postgresql://db/x", 9001, "127.0.0.1")
    assert config.codec.compress is True
    assert config.log_level == "WARNING"
    assert loaded.sources == {
        "store": f"file {file}",
        "port": "environment",
        "compress": f"file {file}",
        "log_level": f"file {file}",
    }
    assert Config.from_env({"CITYSETTLE_CONFIG": str(file)}).port == 9000


def test_every_bad_value_is_named_at_once_by_variable_or_file_key(tmp_path: Path) -> None:
    file = write(tmp_path, 'port = "eighty"\nprot = 1\ncompress = 2\nstore = "mysql://x"\n')
    env = {"CITYSETTLE_CONFIG": str(file), "CITYSETTLE_BATCH_WAIT_MS": "5000", "CITYSETTLE_LOG_FORMAT": "xml"}
    with pytest.raises(ConfigError) as refused:
        Config.from_env(env)
    assert refused.value.problems == [
        f"port in {file} must be an integer, got 'eighty'",
        f"unknown key 'prot' in {file}; the keys are: {', '.join(s.key for s in SETTINGS)}",
        f"compress in {file} must be 0 or 1, got 2",
        f"store in {file} is not a store URL: unsupported store URL scheme 'mysql': use sqlite:/// or postgresql://",
        "CITYSETTLE_BATCH_WAIT_MS must be between 0 and 1000, got 5000",
        "CITYSETTLE_LOG_FORMAT must be one of json, text, got 'xml'",
    ]
    assert str(refused.value) == "; ".join(refused.value.problems)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("port = \n", "is not TOML: Invalid value (at line 1, column 8)"),
        ("[server]\nport = 1\n", ""),
    ],
)
def test_a_file_that_is_not_flat_toml_is_refused(tmp_path: Path, text: str, said: str) -> None:
    file = write(tmp_path, text)
    with pytest.raises(ConfigError) as refused:
        Config.from_env({"CITYSETTLE_CONFIG": str(file)})
    expected = f"the config file {file} {said}" if said else f"unknown key 'server' in {file}"
    assert str(refused.value).startswith(expected)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"the config file .*nowhere\.toml cannot be read: No such file or directory"):
        Config.from_env({"CITYSETTLE_CONFIG": str(tmp_path / "nowhere.toml")})


def test_unknown_variables_are_warned_about_not_refused() -> None:
    loaded = load({"CITYSETTLE_PROT": "1", "CITYSETTLE_WORKER": "2", "CITYSETTLE_TEST_PG_URL": "x"})
    assert loaded.problems == []
    assert loaded.warnings == ["CITYSETTLE_PROT is not a setting (a typo?): `citysettle config check` lists them"]


def test_the_effective_configuration_masks_secrets_and_says_where_each_value_came_from(tmp_path: Path) -> None:
    file = write(tmp_path, f'store = "postgresql://app:s3cret@db/x"\ncipher_key = "{KEY}"\n')
    shown = effective(load({"CITYSETTLE_CONFIG": str(file), "CITYSETTLE_PORT": "99999"}))
    assert "s3cret" not in shown
    assert KEY not in shown
    lines = dict(line.split(" = ", 1) for line in shown.splitlines()[1:])
    assert lines["store"] == f'"postgresql://app:***@db/x"  # CITYSETTLE_STORE, file {file}'
    assert lines["cipher_key"] == f'"***"  # CITYSETTLE_CIPHER_KEY, file {file}'
    assert lines["port"] == "8080  # CITYSETTLE_PORT, REFUSED (see the errors), the default shown"
    assert lines["host"] == '"127.0.0.1"  # CITYSETTLE_HOST, default'
    assert list(lines) == [s.key for s in SETTINGS]


def test_operations_doc_lists_every_setting_with_its_key_and_default() -> None:
    doc = (Path(__file__).resolve().parents[3] / "docs" / "OPERATIONS.md").read_text(encoding="utf-8")
    section = doc.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:-1] for line in section.splitlines() if line.startswith("| `CITYSETTLE_")]
    documented = {cells[0].strip().strip("`"): cells[1].strip().strip("`") for cells in rows}
    assert documented == {s.variable: s.key for s in SETTINGS}
    defaults = Config()
    for cells in rows:
        setting = next(s for s in SETTINGS if s.variable == cells[0].strip().strip("`"))
        value: object = defaults
        for part in setting.field.split("."):
            value = getattr(value, part)
        shown = cells[2].strip()
        if value in (None, ""):
            assert shown == "unset", setting.key
        elif isinstance(value, bool):
            assert shown == ("`1`" if value else "`0`"), setting.key
        else:
            number = int(value) if isinstance(value, float) and value.is_integer() else value
            assert shown == f"`{number}`", setting.key
