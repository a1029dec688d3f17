from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from uuid import UUID

import pytest
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from qr.errors import RenderError
from qr.render import (
    DEFAULT_SCALE,
    MAX_DATA_CHARS,
    QUIET_ZONE_MODULES,
    render_png,
    render_svg,
    symbol,
)
from qr.tickets import Ticket, sign_ticket
from qr.vietqr import VietQR, encode

FULL = encode(
    VietQR(
        "970415",
        "0011001932418",
        amount_vnd=1_250_000,
        mcc="9399",
        name="TRUNG TAM HANH CHINH CONG",
        city="DA NANG",
        bill="HS-2024-000123",
        reference="PAY-7f3a9c",
        terminal="COUNTER-07",
        purpose="Le phi cap ban sao",
    )
)
SHORT = (
    "00020101021238570010A00000072701270006970415011300110019324180208QRIBFTTA5303704"
    "54061200005802VN62170813ung ho lu lut6304C15C"
)


def _ticket_code() -> str:
    ticket = Ticket(
        ticket_id=UUID(int=7),
        product="BUS-DAY",
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_until=datetime(2026, 1, 2, tzinfo=UTC),
        holder_ref="card:0042",
    )
    return sign_ticket(ticket, 3, Ed25519PrivateKey.from_private_bytes(bytes(range(32))))


def _read(png: bytes) -> list[str]:
    """What a real QR reader (ZXing) finds in the PNG."""
    image = Image.open(io.BytesIO(png))
    image.load()
    return [barcode.text for barcode in zxingcpp.read_barcodes(image)]


@pytest.mark.parametrize("data", [SHORT, FULL, _ticket_code()], ids=["sample", "full", "ticket"])
def test_rendered_png_reads_back_as_the_same_data(data: str) -> None:
    assert _read(render_png(data)) == [data]


def test_small_scale_still_reads_back() -> None:
    assert _read(render_png(FULL, scale=3)) == [FULL]


def test_output_is_deterministic() -> None:
    assert render_png(FULL) == render_png(FULL)
    assert render_svg(FULL) == render_svg(FULL)


def test_symbol_uses_level_m_and_is_never_micro() -> None:
    for data in (SHORT, FULL, "1"):
        code = symbol(data)
        assert code.error == "M"
        assert not code.is_micro


def test_png_has_a_four_module_white_quiet_zone() -> None:
    image = Image.open(io.BytesIO(render_png(SHORT))).convert("L")
    modules = symbol(SHORT).symbol_size(scale=1, border=0)[0]
    side = (modules + 2 * QUIET_ZONE_MODULES) * DEFAULT_SCALE
    assert image.size == (side, side)
    margin = QUIET_ZONE_MODULES * DEFAULT_SCALE
    for box in [(0, 0, side, margin), (0, 0, margin, side), (0, side - margin, side, side)]:
        assert image.crop(box).getextrema() == (255, 255)
    assert image.crop((margin, margin, side - margin, side - margin)).getextrema() == (0, 255)


def test_svg_is_a_standalone_svg_document() -> None:
    root = ET.fromstring(render_svg(SHORT).encode("utf-8"))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"


@pytest.mark.parametrize("data", ["", "x" * (MAX_DATA_CHARS + 1)])
def test_rejects_empty_or_oversized_data(data: str) -> None:
    with pytest.raises(RenderError, match="characters"):
        render_png(data)


@pytest.mark.parametrize("scale", [0, 41, 2.5, True])
def test_rejects_unreasonable_scale(scale: int) -> None:
    with pytest.raises(RenderError, match="scale"):
        render_svg(SHORT, scale=scale)


def test_ticket_codes_use_the_compact_alphanumeric_mode() -> None:
    code = symbol(_ticket_code())
    assert code.mode == "alphanumeric"
    assert isinstance(code.version, int)  # a Micro QR version would be a string such as "M4"
    assert code.version <= 7
