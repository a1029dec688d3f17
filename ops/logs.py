"""The service's logs: one JSON object per line on stderr (``CITYSETTLE_LOG_FORMAT=json``,
the default of ``serve``), or the same records as plain text (``text``).

Every line has ``ts`` (UTC, ISO 8601), ``level``, ``logger``, ``message``, ``pid`` and,
under ``serve --workers N``, ``worker``; a line logged while a request is served also has
its ``request_id`` (`ops.access_log` writes the one line per request). Secrets never reach
a line: the access line carries no query string, header or body at all, and every message
and traceback goes through `redact` first, which masks what looks like a secret: the value
of a ``password=``/``token=``/``key=``/``signature=``… parameter, a URL's password, an
``Authorization:``/``Signature:``/``Cookie:`` header's value, a JSON ``"password": "…"``
member, a PEM block.
"""

from __future__ import annotations

import contextvars
import logging
import os
import re
import sys
from typing import Any, Final

from pythonjsonlogger.json import JsonFormatter

LOG_FORMATS: Final = ("json", "text")
LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR")
WORKER_ENV = "CITYSETTLE_WORKER"  # set by `ops.serving.Supervisor` for each worker

# the request being served in this task (aiohttp runs each request in a task of its own)
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

MASK = "***"
_NAMES = (
    r"password|passwd|pwd|pass|secret|client_secret|token|access_token|refresh_token|id_token|api_key|apikey"
    r"|key|private_key|cipher_key|signature|sig|auth|authorization|credential|credentials|session|checksum"
)
_HEADERS = r"(?im)\b(authorization|proxy-authorization|signature|signature-input|cookie|set-cookie|x-api-key)"
_SECRETS: Final = (
    # PEM blocks (private keys) whole
    (re.compile(r"-----BEGIN [A-Z0-9 ]+-----.*?(-----END [A-Z0-9 ]+-----|$)", re.DOTALL), "-----PEM " + MASK + "-----"),
    # header lines: the value to the end of the line
    (
        re.compile(_HEADERS + r"(\s*:\s*)[^\r\n]+"),
        r"\1\2" + MASK,
    ),
    # URL user info: scheme://user:password@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+@"), r"\1" + MASK + "@"),
    # JSON members: "password": "…"
    (re.compile(rf'(?i)("(?:{_NAMES})"\s*:\s*)"(?:[^"\\]|\\.)*"'), r'\1"' + MASK + '"'),
    # query or form parameters and key=value words: password=…
    (re.compile(rf"(?i)(?<![a-z0-9_])((?:{_NAMES})=)[^&\s\"',;]+"), r"\1" + MASK),
)


def redact(text: str) -> str:
    """``text`` with every value that looks like a secret replaced by ``***``."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class _Context(logging.Filter):
    """Adds the request id, the process and the worker to every record, and redacts it."""

    def __init__(self) -> None:
        super().__init__()
        self.worker = os.environ.get(WORKER_ENV) or None

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = REQUEST_ID.get()
        if request_id is not None and not hasattr(record, "request_id"):
            record.request_id = request_id
        if self.worker is not None:
            record.worker = self.worker
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # mismatched arguments: logging reports it when formatting
            return True
        record.msg = redact(message)
        record.args = None
        return True


class _RedactingJson(JsonFormatter):
    def formatException(self, ei: Any) -> str | list[str]:  # type: ignore[override]
        return _redact_lines(super().formatException(ei))

    def formatStack(self, stack_info: Any) -> str | list[str]:  # type: ignore[override]
        return _redact_lines(super().formatStack(stack_info))


def _redact_lines(text: str | list[str]) -> str | list[str]:
    return redact(text) if isinstance(text, str) else [redact(line) for line in text]


class _RedactingText(logging.Formatter):
    def formatException(self, ei: object) -> str:
        return redact(super().formatException(ei))  # type: ignore[arg-type]


def configure(log_format: str = "json", level: str = "INFO") -> None:
    """Send every record to stderr in ``log_format``, from ``level`` up (replacing the
    handlers set before, e.g. by the command line's default)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_Context())
    if log_format == "json":
        handler.setFormatter(
            _RedactingJson(
                ["levelname", "name", "message", "process"],
                rename_fields={"levelname": "level", "name": "logger", "process": "pid"},
                timestamp="ts",
                json_ensure_ascii=False,
            )
        )
    else:
        handler.setFormatter(
            _RedactingText("%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s", "%Y-%m-%dT%H:%M:%S%z")
        )
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
