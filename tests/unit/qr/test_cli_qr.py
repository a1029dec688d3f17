from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from ops.cli import qr as cli_qr

SAMPLE = (
    "00020101021238570010A00000072701270006970415011300110019324180208QRIBFTTA5303704"
    "54061200005802VN62170813ung ho lu lut6304C15C"
)
SAMPLE_ARGS = [
    "qr", "vietqr", "--bin", "970415", "--account", "0011001932418",
    "--amount", "120000", "--purpose", "ủng hộ lũ lụt",
]  # fmt: skip


def _run(argv: list[str]) -> int:
    """Parses ``argv`` as the top-level ``citysettle`` parser would and runs the handler."""
    parser = argparse.ArgumentParser(prog="citysettle")
    cli_qr.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


def test_vietqr_prints_the_payload(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(SAMPLE_ARGS) == 0
    assert capsys.readouterr() == (SAMPLE + "\n", "")


def test_vietqr_with_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "qr", "vietqr", "--bin", "970436", "--account", "4111111111111111", "--card",
        "--amount", "50000", "--bill", "HS-1", "--reference", "PAY-9", "--terminal", "Q1",
        "--purpose", "Lệ phí", "--name", "UBND Phường Bến Nghé", "--city", "Hồ Chí Minh",
        "--mcc", "9399",
    ]  # fmt: skip
    assert _run(argv) == 0
    payload = capsys.readouterr().out.strip()
    assert _run(["qr", "decode", payload]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "bank_bin": "970436",
        "account": "4111111111111111",
        "service": "to_card",
        "initiation": "dynamic",
        "amount_vnd": 50000,
        "mcc": "9399",
        "name": "UBND Phuong Ben Nghe",
        "city": "Ho Chi Minh",
        "bill": "HS-1",
        "reference": "PAY-9",
        "terminal": "Q1",
        "purpose": "Le phi",
    }


def test_vietqr_writes_a_png_that_reads_back(tmp_path: Path) -> None:
    out = tmp_path / "code.png"
    assert _run([*SAMPLE_ARGS, "--format", "png", "--out", str(out)]) == 0
    image = Image.open(out)
    image.load()
    assert [barcode.text for barcode in zxingcpp.read_barcodes(image)] == [SAMPLE]


def test_vietqr_png_goes_to_stdout_as_bytes(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert _run([*SAMPLE_ARGS, "--format", "png"]) == 0
    image = Image.open(io.BytesIO(capsysbinary.readouterr().out))
    assert image.format == "PNG"


def test_vietqr_svg_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run([*SAMPLE_ARGS, "--format", "svg"]) == 0
    assert "<svg" in capsys.readouterr().out


def test_vietqr_payload_to_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "payload.txt"
    assert _run([*SAMPLE_ARGS, "--out", str(out)]) == 0
    assert out.read_text(encoding="ascii") == SAMPLE + "\n"
    assert capsys.readouterr().out == ""


def test_vietqr_invalid_input_exits_1_naming_the_tag(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["qr", "vietqr", "--bin", "97041", "--account", "1"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "citysettle qr vietqr: tag 38.01.00: acquirer BIN must be 6 digits, got '97041'\n"


def test_vietqr_unwritable_out_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run([*SAMPLE_ARGS, "--out", str(tmp_path / "missing" / "x.png")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_decode_prints_fields_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["qr", "decode", SAMPLE + "\n"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    fields = json.loads(out)
    assert fields["bank_bin"] == "970415"
    assert fields["account"] == "0011001932418"
    assert fields["amount_vnd"] == 120000
    assert fields["purpose"] == "ung ho lu lut"
    assert fields["initiation"] == "dynamic"
    assert fields["name"] is None


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (SAMPLE[:-1] + "D", "tag 63: CRC mismatch: payload states C15D, computed C15C"),
        (SAMPLE[:-4] + "c15c", "tag 63: must be 4 upper-case hex digits"),
        ("hello", "payload: expected a two-digit tag"),
        ("", "tag 63: missing"),
    ],
)
def test_decode_invalid_exits_1_with_reason(payload: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["qr", "decode", payload]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("citysettle qr decode: invalid payload: ")
    assert message in err


def test_every_leaf_command_has_a_handler() -> None:
    parser = argparse.ArgumentParser(prog="citysettle")
    cli_qr.register(parser.add_subparsers(dest="command", required=True))
    for argv in (["qr", "vietqr", "--bin", "1", "--account", "1"], ["qr", "decode", "x"]):
        assert callable(parser.parse_args(argv).handler)
    with pytest.raises(SystemExit):
        parser.parse_args(["qr"])
