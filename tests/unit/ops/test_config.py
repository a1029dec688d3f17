from __future__ import annotations

from pathlib import Path

import pytest

from ops.config import DEFAULT_STORE_URL, Config, ConfigError, redact_url


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
    assert redact_url("postgresql://app:s3cret@db/x") == "postgresql://app:***@db/x"
    assert redact_url("sqlite:///./var/x.db") == "sqlite:///./var/x.db"
    assert redact_url("postgresql://db/x?password=s3cret&schema=a") == "postgresql://db/x?password=***&schema=a"


def test_cipher_key_is_not_in_the_codec_repr() -> None:
    assert KEY not in repr(Config.from_env({"CITYSETTLE_CIPHER_KEY": KEY}).codec)
