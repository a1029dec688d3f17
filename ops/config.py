"""Service configuration: flags override environment variables override defaults."""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from adapters.eventstore.codec import CodecOptions
from adapters.eventstore.group_commit import DEFAULT_BATCH_EVENTS
from adapters.http.admission import DEFAULT_MAX_IN_FLIGHT
from ops.logs import LOG_FORMATS, LOG_LEVELS

DEFAULT_STORE_URL = "sqlite:///./var/citysettle.db"


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True, slots=True)
class Config:
    store_url: str = DEFAULT_STORE_URL
    host: str = "127.0.0.1"
    port: int = 8080
    codec: CodecOptions = field(default_factory=CodecOptions)
    batch_events_max: int = DEFAULT_BATCH_EVENTS
    batch_wait_ms: float = 0.0
    pending_appends_max: int = 10_000
    request_body_max_bytes: int = 1_048_576
    # API requests one worker serves at once; beyond, 503 + Retry-After (0: no bound)
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    shutdown_timeout_s: float = 10.0
    # the longest a request may take once its body is read; later it is a 503 with
    # Retry-After (a store that stopped answering must not hold clients without bound)
    request_timeout_s: float = 10.0
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
        env = os.environ if env is None else env
        base = cls()
        return cls(
            store_url=env.get("CITYSETTLE_STORE", base.store_url),
            host=env.get("CITYSETTLE_HOST", base.host),
            port=_int(env, "CITYSETTLE_PORT", base.port, 1, 65_535),
            codec=CodecOptions(
                compress=_flag(env, "CITYSETTLE_COMPRESS"),
                cipher_key=_cipher_key(env, "CITYSETTLE_CIPHER_KEY"),
            ),
            batch_events_max=_int(env, "CITYSETTLE_BATCH_EVENTS_MAX", base.batch_events_max, 1, 100_000),
            max_in_flight=_int(env, "CITYSETTLE_MAX_IN_FLIGHT", base.max_in_flight, 0, 100_000),
            batch_wait_ms=float(_int(env, "CITYSETTLE_BATCH_WAIT_MS", int(base.batch_wait_ms), 0, 1_000)),
            checkpoint_key_file=_path(env, "CITYSETTLE_CHECKPOINT_KEY_FILE"),
            checkpoint_keyring_file=_path(env, "CITYSETTLE_CHECKPOINT_KEYRING"),
            checkpoint_interval_s=float(_int(env, "CITYSETTLE_CHECKPOINT_INTERVAL_S", 60, 1, 86_400)),
            request_timeout_s=float(_int(env, "CITYSETTLE_REQUEST_TIMEOUT_S", 10, 1, 300)),
            client_cache_ttl_s=float(_int(env, "CITYSETTLE_CLIENT_CACHE_TTL_S", 1, 0, 300)),
            wallet_payee_id=env.get("CITYSETTLE_WALLET_PAYEE", base.wallet_payee_id),
            bank_notice_delay_s=float(_int(env, "CITYSETTLE_BANK_NOTICE_DELAY_S", 600, 0, 86_400)),
            log_format=_choice(env, "CITYSETTLE_LOG_FORMAT", base.log_format, LOG_FORMATS),
            log_level=_choice(env, "CITYSETTLE_LOG_LEVEL", base.log_level, LOG_LEVELS, upper=True),
            ticket_key_file=_path(env, "CITYSETTLE_TICKET_KEY_FILE"),
            ticket_key_id=_int(env, "CITYSETTLE_TICKET_KEY_ID", base.ticket_key_id, 0, 65_535),
            ticket_keyring_file=_path(env, "CITYSETTLE_TICKET_KEYRING"),
            display_key_file=_path(env, "CITYSETTLE_DISPLAY_KEY_FILE"),
            display_valid_after_expiry_s=float(
                _int(env, "CITYSETTLE_DISPLAY_VALID_AFTER_EXPIRY_S", 1_800, 0, 7 * 86_400)
            ),
            session_key_file=_path(env, "CITYSETTLE_SESSION_KEY_FILE"),
        )

    def with_overrides(self, **overrides: Any) -> Config:
        """Apply the flags that were given (``None`` means not given)."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def __repr__(self) -> str:  # never print the cipher key
        return f"Config(store_url={redact_url(self.store_url)!r}, host={self.host!r}, port={self.port})"


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


AES_KEY_BYTES = (16, 24, 32)


def _cipher_key(env: Mapping[str, str], name: str) -> str | None:
    """The store's AES key as base64 (what eventsourcing's `AESCipher` takes), checked
    here so that a bad one is named at start; the message never shows the value."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        size = len(base64.b64decode(raw, validate=True))
    except binascii.Error:
        problem = "is not base64 text"
    else:
        if size in AES_KEY_BYTES:
            return raw
        problem = f"decodes to {size} bytes"
    raise ConfigError(
        f"{name} {problem}; it must be the base64 of a 16-, 24- or 32-byte AES key (e.g. `openssl rand -base64 32`)"
    )


def _choice(env: Mapping[str, str], name: str, default: str, allowed: Sequence[str], *, upper: bool = False) -> str:
    raw = env.get(name, "").strip()
    value = (raw.upper() if upper else raw.lower()) or default
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {raw!r}")
    return value


def _path(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name)
    return Path(raw) if raw else None


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "0").strip().lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("", "0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 0 or 1, got {raw!r}")


def redact_url(url: str) -> str:
    """Hide passwords in a store URL for logs: in the user part and in the query."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    query = "&".join(
        f"{k}=***" if k.lower() in ("password", "sslpassword") else f"{k}={v}"
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    )
    if netloc == parts.netloc and query == parts.query:
        return url  # nothing secret; also keeps sqlite:/// URLs exactly as given
    return urlunsplit(parts._replace(netloc=netloc, query=query))
