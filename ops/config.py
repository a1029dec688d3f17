"""Service configuration, the one place that reads it: flags override environment variables
override the optional TOML file (``--config FILE`` or ``CITYSETTLE_CONFIG``) override the
defaults. Every setting is in `SETTINGS`: its variable ``CITYSETTLE_<KEY>``, its file key
``<key>``, how it is checked, whether it is a secret. Every bad value is named at once
(`ConfigError`: each variable or file key with what is wrong), before anything starts;
``citysettle config check`` prints the effective configuration, secrets masked
(docs/OPERATIONS.md, "Configuration")."""

from __future__ import annotations

import base64
import binascii
import os
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from adapters.eventstore.base import redacted_url
from adapters.eventstore.codec import CodecOptions
from adapters.eventstore.group_commit import DEFAULT_BATCH_EVENTS
from adapters.http.admission import DEFAULT_MAX_IN_FLIGHT
from ops.logs import LOG_FORMATS, LOG_LEVELS

DEFAULT_STORE_URL = "sqlite:///./var/citysettle.db"


CONFIG_ENV = "CITYSETTLE_CONFIG"  # the TOML file, when not given with --config
ENV_PREFIX = "CITYSETTLE_"
# variables of the same prefix that are not settings of the service
NOT_SETTINGS = frozenset(
    {
        CONFIG_ENV,
        "CITYSETTLE_WORKER",
        "CITYSETTLE_TEST_PG_URL",
        "CITYSETTLE_BENCH_PG_URL",
        "CITYSETTLE_TEST_PORTS",  # the tests: where the servers they start listen
        "CITYSETTLE_TEST_PG_PORTS",
        "CITYSETTLE_FUZZ_EXAMPLES",  # tests/integration/test_http_fuzz.py
        "CITYSETTLE_FUZZ_STORE",
        "CITYSETTLE_FUZZ_TALLY",
        "CITYSETTLE_RELIABILITY",  # tests/reliability
        "CITYSETTLE_RELIABILITY_OUT",
    }
)


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names it."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems) or [message]


@dataclass(frozen=True, slots=True)
class Config:
    store_url: str = DEFAULT_STORE_URL
    host: str = "127.0.0.1"
    port: int = 8080
    codec: CodecOptions = field(default_factory=CodecOptions)
    batch_events_max: int = DEFAULT_BATCH_EVENTS
    batch_wait_ms: float = 0.0
    batch_adaptive: bool = True  # a batch takes half of the appends in play (batch_sizing)
    # idempotency keys are kept this long after their request, then pruned by the leader,
    # at most idempotency_prune_batch keys a statement (ops.idempotency_retention)
    idempotency_key_days: int = 30
    idempotency_prune_batch: int = 5_000
    pending_appends_max: int = 10_000
    request_body_max_bytes: int = 1_048_576
    # API requests one worker serves at once; beyond, 503 + Retry-After (0: no bound)
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    shutdown_timeout_s: float = 10.0
    # the longest a request may take once its body is read; later it is a 503 with
    # Retry-After (a store that stopped answering must not hold clients without bound)
    request_timeout_s: float = 10.0
    # the longest a client may take to send a request's headers (also how long a kept-alive
    # connection may stay idle) and, once they are in, its body: a client trickling bytes
    # (slow loris) must not hold a connection and an admission slot without bound
    read_timeout_s: float = 10.0
    checkpoint_key_file: Path | None = None
    checkpoint_keyring_file: Path | None = None
    checkpoint_interval_s: float = 60.0
    # how often a worker that does not run the projections asks for the leader lock:
    # the longest a dead leader's duties wait for another worker to take them over
    leader_retry_s: float = 1.0
    client_cache_ttl_s: float = 1.0  # how long a revocation may take to reach a running service
    wallet_payee_id: str = "wallets"  # the payee whose collection account takes wallet top-ups
    # A transfer booked before its payment expired still pays it when the bank's notice
    # arrives at most this long after the expiry (credit_bank_transfer's accepted_delay).
    bank_notice_delay_s: float = 600.0
    log_format: str = "json"  # the service's logs (ops.logs): "json" lines or "text"
    log_level: str = "INFO"
    # Ed25519 key that signs ticket codes (unset: a SQLite store's development key, see
    # ops.ticket_signing), the key id codes name, and public keys rotated out but published
    ticket_key_file: Path | None = None
    ticket_key_id: int = 1
    ticket_keyring_file: Path | None = None
    # The secret that signs the counter display's links (adapters/http/display_links): a
    # file of at least 32 bytes. Unset: a random key per process (links end at a restart;
    # `serve --workers N` shares one among its workers).
    display_key_file: Path | None = None
    display_valid_after_expiry_s: float = 1_800.0  # a display link outlives its payment by this
    # the finance desk's session and CSRF signing key (base64 of at least 32 random bytes);
    # unset: a key per process start, so sessions end with a restart
    session_key_file: Path | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        """The configuration from ``env`` (default: the process's) and the TOML file it
        names in ``CITYSETTLE_CONFIG``; every problem at once in one `ConfigError`."""
        return load(os.environ if env is None else env).config()

    def with_overrides(self, **overrides: Any) -> Config:
        """Apply the flags that were given (``None`` means not given)."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def __repr__(self) -> str:  # never print the cipher key
        return f"Config(store_url={redacted_url(self.store_url)!r}, host={self.host!r}, port={self.port})"


Parse = Callable[[object], Any]


class _Bad(ValueError):
    """A value's problem, said without its name (the caller adds where it came from)."""


@dataclass(frozen=True)
class Setting:
    key: str  # in the TOML file; the variable is CITYSETTLE_<KEY>
    field: str  # of `Config` (``codec.*``: of its `CodecOptions`)
    parse: Parse
    meaning: str
    secret: bool = False

    @property
    def variable(self) -> str:
        return ENV_PREFIX + self.key.upper()


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise _Bad(f"must be text, got {value!r}")
    return value.strip()


def integer(low: int, high: int) -> Parse:
    def parse(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise _Bad(f"must be an integer, got {value!r}")
        try:
            number = int(value)
        except ValueError:
            raise _Bad(f"must be an integer, got {value!r}") from None
        if not low <= number <= high:
            raise _Bad(f"must be between {low} and {high}, got {number}")
        return number

    return parse


def seconds(low: int, high: int) -> Parse:
    whole = integer(low, high)
    return lambda value: float(whole(value))


def flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    raw = _text(value).lower() if isinstance(value, str) else value
    if raw in ("1", "true", "yes", "on", 1):
        return True
    if raw in ("", "0", "false", "no", "off", 0):
        return False
    raise _Bad(f"must be 0 or 1, got {value!r}")


def choice(allowed: Sequence[str], *, upper: bool = False) -> Parse:
    def parse(value: object) -> str:
        raw = _text(value)
        chosen = raw.upper() if upper else raw.lower()
        if chosen not in allowed:
            raise _Bad(f"must be one of {', '.join(allowed)}, got {raw!r}")
        return chosen

    return parse


def name(value: object) -> str:
    text = _text(value)
    if not text:
        raise _Bad("must not be empty")
    return text


def path(value: object) -> Path | None:
    text = _text(value)
    return Path(text) if text else None


def store_url(value: object) -> str:
    url = _text(value) or DEFAULT_STORE_URL
    check_store_url(url)
    return url


def check_store_url(url: str) -> None:
    """Refuse a store URL no adapter takes (`ops.stores` opens the others)."""
    if not url.startswith(("sqlite://", "postgresql://", "postgres://")):
        scheme = url.split("://", 1)[0]
        raise ConfigError(f"unsupported store URL scheme {scheme!r}: use sqlite:/// or postgresql://")


AES_KEY_BYTES = (16, 24, 32)


def cipher_key(value: object) -> str | None:
    """The store's AES key as base64 (what eventsourcing's `AESCipher` takes); the
    message never shows the value."""
    raw = value.strip() if isinstance(value, str) else None
    if raw == "":
        return None
    try:
        size = len(base64.b64decode(raw, validate=True)) if raw is not None else -1
    except binascii.Error:
        size = -1
    if size in AES_KEY_BYTES:
        return raw
    problem = "is not base64 text" if size < 0 else f"decodes to {size} bytes"
    raise _Bad(f"{problem}; it must be the base64 of a 16-, 24- or 32-byte AES key (e.g. `openssl rand -base64 32`)")


def _parse_store(value: object) -> str:
    try:
        return store_url(value)
    except ConfigError as exc:
        raise _Bad(f"is not a store URL: {exc}") from None


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "store",
        "store_url",
        _parse_store,
        "event store URL: `sqlite:///PATH` or `postgresql://USER:PW@HOST/DB[?schema=NAME]`",
    ),
    Setting("host", "host", name, "address `serve` listens on"),
    Setting("port", "port", integer(1, 65_535), "port `serve` listens on"),
    Setting(
        "cipher_key",
        "codec.cipher_key",
        cipher_key,
        "base64 AES key (16/24/32 bytes): event state encrypted with AES-GCM at rest",
        secret=True,
    ),
    Setting("compress", "codec.compress", flag, "`1` compresses event state with zlib"),
    Setting(
        "batch_events_max",
        "batch_events_max",
        integer(1, 100_000),
        "group commit: most events in one transaction, the hard bound (BENCHMARKS.md)",
    ),
    Setting(
        "batch_adaptive",
        "batch_adaptive",
        flag,
        "group commit: `1` takes half of the appends in play (one batch commits while the next is prepared),"
        " `0` all that is queued",
    ),
    Setting(
        "batch_wait_ms",
        "batch_wait_ms",
        seconds(0, 1_000),
        "group commit: longest wait for more appends before committing, in ms",
    ),
    Setting(
        "idempotency_key_days",
        "idempotency_key_days",
        integer(1, 3_650),
        "days an Idempotency-Key is kept after its request; older keys are forgotten (docs/API.md)",
    ),
    Setting(
        "idempotency_prune_batch",
        "idempotency_prune_batch",
        integer(1, 1_000_000),
        "most idempotency keys forgotten in one statement of the pruning",
    ),
    Setting(
        "checkpoint_key_file",
        "checkpoint_key_file",
        path,
        "Ed25519 key (PEM) that signs chain-head checkpoints (`audit keygen`)",
    ),
    Setting(
        "checkpoint_keyring",
        "checkpoint_keyring_file",
        path,
        "trusted checkpoint public keys (JSON) for `audit verify` and `export checkpoints`",
    ),
    Setting(
        "checkpoint_interval_s",
        "checkpoint_interval_s",
        seconds(1, 86_400),
        "how often the head is checkpointed when the log grew",
    ),
    Setting(
        "client_cache_ttl_s",
        "client_cache_ttl_s",
        seconds(0, 300),
        "how long the service keeps a client's keys before reading them again (a revocation's delay)",
    ),
    Setting("wallet_payee", "wallet_payee_id", name, "the payee whose collection account receives wallet top-ups"),
    Setting(
        "bank_notice_delay_s",
        "bank_notice_delay_s",
        seconds(0, 86_400),
        "a transfer booked before its payment expired still pays it when the notice arrives"
        " at most this long after the expiry",
    ),
    Setting("log_format", "log_format", choice(LOG_FORMATS), "the service's logs: JSON lines (`json`) or `text`"),
    Setting(
        "log_level", "log_level", choice(LOG_LEVELS, upper=True), "lowest level logged: DEBUG, INFO, WARNING or ERROR"
    ),
    Setting(
        "max_in_flight",
        "max_in_flight",
        integer(0, 100_000),
        "API requests one worker serves at once; beyond, 503 with Retry-After (0: no bound)",
    ),
    Setting(
        "request_timeout_s",
        "request_timeout_s",
        seconds(1, 300),
        "the longest a request may take once its body is read; then 503 with Retry-After",
    ),
    Setting(
        "read_timeout_s",
        "read_timeout_s",
        seconds(1, 300),
        "the longest a client may take to send a request's headers (and a kept-alive connection may idle), and "
        "then its body; past it the connection is closed, a body answered 408",
    ),
    Setting("ticket_key_file", "ticket_key_file", path, "Ed25519 private key (PEM) that signs ticket codes"),
    Setting("ticket_key_id", "ticket_key_id", integer(0, 65_535), "the key id ticket codes signed with that key carry"),
    Setting(
        "ticket_keyring",
        "ticket_keyring_file",
        path,
        "ticket public keys rotated out but still published at GET /v1/tickets/keys",
    ),
    Setting(
        "display_key_file",
        "display_key_file",
        path,
        "secret (at least 32 bytes) that signs the counter display's links",
    ),
    Setting(
        "display_valid_after_expiry_s",
        "display_valid_after_expiry_s",
        seconds(0, 7 * 86_400),
        "how long a counter display link outlives its payment",
    ),
    Setting(
        "session_key_file",
        "session_key_file",
        path,
        "base64 of at least 32 random bytes: signs the finance desk's session cookies and CSRF tokens",
    ),
)
_BY_KEY = {s.key: s for s in SETTINGS}


@dataclass(frozen=True)
class Loaded:
    """The settings read, where each came from, and every problem found."""

    values: dict[str, Any]  # by key, only those set
    sources: dict[str, str]  # by key: "environment" or "file PATH"
    problems: list[str]
    warnings: list[str]
    refused: set[str] = field(default_factory=set)  # keys whose given value was refused

    def config(self, *, strict: bool = True) -> Config:
        """The configuration; with ``strict=False`` the valid values only (for showing)."""
        if self.problems and strict:
            raise ConfigError("; ".join(self.problems), self.problems)
        fields: dict[str, Any] = {}
        codec: dict[str, Any] = {}
        for key, value in self.values.items():
            target = _BY_KEY[key].field
            if target.startswith("codec."):
                codec[target.removeprefix("codec.")] = value
            else:
                fields[target] = value
        return Config(**fields, codec=CodecOptions(**codec))


def load(env: Mapping[str, str], config_file: Path | None = None) -> Loaded:
    """Read the file (``config_file``, else ``CITYSETTLE_CONFIG``), then the environment
    over it; check every value."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    problems: list[str] = []
    refused: set[str] = set()
    file = config_file or (Path(env[CONFIG_ENV]) if env.get(CONFIG_ENV, "").strip() else None)
    if file is not None:
        for key, raw in _read_file(file, problems).items():
            setting = _BY_KEY.get(key)
            if setting is None:
                problems.append(f"unknown key {key!r} in {file}; the keys are: {', '.join(_BY_KEY)}")
                continue
            _take(setting, raw, f"{key} in {file}", f"file {file}", values, sources, problems, refused)
    for setting in SETTINGS:
        raw_env = env.get(setting.variable)
        if raw_env is not None and raw_env.strip():  # an empty variable is not set
            _take(setting, raw_env, setting.variable, "environment", values, sources, problems, refused)
    unknown = [
        variable
        for variable in sorted(env)
        if variable.startswith(ENV_PREFIX)
        and variable not in NOT_SETTINGS
        and variable.removeprefix(ENV_PREFIX).lower() not in _BY_KEY
    ]
    warnings = [f"{variable} is not a setting (a typo?): `citysettle config check` lists them" for variable in unknown]
    return Loaded(values, sources, problems, warnings, refused)


def _take(
    setting: Setting,
    raw: object,
    where: str,
    source: str,
    values: dict[str, Any],
    sources: dict[str, str],
    problems: list[str],
    refused: set[str],
) -> None:
    try:
        value = setting.parse(raw)
    except _Bad as exc:
        problems.append(f"{where} {exc}")
        refused.add(setting.key)
        return
    if value is None:  # an empty path or key: not set
        values.pop(setting.key, None)
    else:
        values[setting.key] = value
    sources[setting.key] = source


def _read_file(file: Path, problems: list[str]) -> dict[str, Any]:
    try:
        with file.open("rb") as raw:
            return tomllib.load(raw)
    except OSError as exc:
        problems.append(f"the config file {file} cannot be read: {exc.strerror}")
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"the config file {file} is not TOML: {exc}")
    return {}


def effective(loaded: Loaded) -> str:
    """The configuration as a TOML document a file could hold: each setting with its
    source, secrets masked."""
    config = loaded.config(strict=False)
    lines = ["# citysettle config check: the effective configuration (secrets masked)"]
    for setting in SETTINGS:
        value = _value_of(config, setting)
        source = loaded.sources.get(setting.key, "default")
        if setting.key in loaded.refused:
            source = "REFUSED (see the errors), the default shown"
        if setting.secret:
            shown = '"***"' if value else '""'
        elif setting.key == "store":
            shown = _toml(redacted_url(value))
        else:
            shown = _toml(value)
        lines.append(f"{setting.key} = {shown}  # {setting.variable}, {source}")
    return "\n".join(lines) + "\n"


def _value_of(config: Config, setting: Setting) -> Any:
    target: Any = config
    for part in setting.field.split("."):
        target = getattr(target, part)
    return target


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    text = "" if value is None else str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
