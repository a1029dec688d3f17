"""`ops.logs`: JSON lines, the request id on every line of a request, secrets masked in
messages and tracebacks whatever the code logging them passed."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from ops import logs

PEM = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIPEMPEMPEMPEM\n-----END PRIVATE KEY-----"


@pytest.fixture
def captured(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield capsys
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("GET /x?token=t0k3n&page=2", "t0k3n"),
        ("GET /x?a=1&password=pw-1", "pw-1"),
        ("callback?access_token=at-9;", "at-9"),
        ("postgresql://app:db-pw@db:5432/citysettle", "db-pw"),
        ("Authorization: Bearer b34r3r", "b34r3r"),
        ("signature: sig1=:c2ln:", "c2ln"),
        ("Cookie: session=c00k13", "c00k13"),
        ('{"name": "x", "password": "js-pw", "client_secret": "cs\\"q"}', "js-pw"),
        ('{"client_secret": "cs\\"q"}', 'cs\\"q'),
        (f"key file {PEM} loaded", "PEMPEM"),
        ("cipher_key=QUJD", "QUJD"),
    ],
)
def test_redact_masks_what_looks_like_a_secret(text: str, secret: str) -> None:
    assert secret in text
    masked = logs.redact(text)
    assert secret not in masked
    assert logs.MASK in masked


def test_redact_keeps_what_is_not_secret() -> None:
    text = "GET /v1/payments/{payment_id} 200 key_id=cl_1.k1 route=/healthz sqlite:///./var/citysettle.db"
    assert logs.redact(text) == text


def test_json_lines_carry_the_request_id_and_no_secret(captured: pytest.CaptureFixture[str]) -> None:
    logs.configure("json", "INFO")
    log = logging.getLogger("citysettle.test")
    token = logs.REQUEST_ID.set("req-7")
    try:
        log.info("opening %s", "postgresql://app:s3cr3t@db/x")
        try:
            raise ValueError("refused token=tr4ceb4ck")
        except ValueError:
            log.exception("failed with password=%s", "pw-in-args")
    finally:
        logs.REQUEST_ID.reset(token)
    log.debug("not shown")
    log.warning("outside a request")
    err = captured.readouterr().err
    lines = [json.loads(line) for line in err.splitlines()]
    assert [line["message"] for line in lines] == [
        "opening postgresql://app:***@db/x",
        "failed with password=***",
        "outside a request",
    ]
    assert [line.get("request_id") for line in lines] == ["req-7", "req-7", None]
    assert {line["level"] for line in lines} == {"INFO", "ERROR", "WARNING"}
    assert "ValueError: refused token=***" in lines[1]["exc_info"]
    for secret in ("s3cr3t", "tr4ceb4ck", "pw-in-args"):
        assert secret not in err


def test_text_lines_are_redacted_too(captured: pytest.CaptureFixture[str]) -> None:
    logs.configure("text", "WARNING")
    logging.getLogger("citysettle.test").info("not shown")
    logging.getLogger("citysettle.test").warning("with Authorization: Bearer zzz")
    err = captured.readouterr().err
    assert "zzz" not in err
    assert "Authorization: ***" in err
    assert "not shown" not in err
