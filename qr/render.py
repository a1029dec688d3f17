"""QR symbols drawn with segno, tuned for a phone camera across a counter.

- Error correction M (about 15 % of codewords recoverable): enough for glare, a
  scratched screen or a crumpled print, while keeping the symbol a version or two
  smaller than Q/H, so modules stay large when the image is shown at a fixed size.
  ``boost_error`` is off so the level never changes with the payload length.
- Quiet zone of 4 modules, the minimum ISO/IEC 18004 asks for; phone decoders lose
  the finder patterns against a busy background without it.
- Never a Micro QR: bank apps do not read them.

segno picks the version and mask deterministically and writes no timestamps, so the
same data always gives the same PNG and SVG bytes (the pages and tests rely on it).
"""

from __future__ import annotations

import io

import segno

from qr.errors import RenderError

ERROR_LEVEL = "M"
QUIET_ZONE_MODULES = 4
DEFAULT_SCALE = 8  # pixels per module: ~ 400 px for a VietQR, sharp on a counter screen
MAX_SCALE = 40
# Far above any VietQR (<= 512) or ticket code, well below what version 40-M holds, so a
# request can never make us build a huge symbol.
MAX_DATA_CHARS = 1024


def symbol(data: str) -> segno.QRCode:
    """The segno QR code for ``data`` with this module's fixed parameters."""
    if not data or len(data) > MAX_DATA_CHARS:
        raise RenderError(f"QR data must be 1..{MAX_DATA_CHARS} characters, got {len(data)}")
    return segno.make_qr(data, error=ERROR_LEVEL, boost_error=False)


def render_png(data: str, scale: int = DEFAULT_SCALE) -> bytes:
    """A black-on-white PNG of ``data``."""
    return _save(data, "png", scale)


def render_svg(data: str, scale: int = DEFAULT_SCALE) -> str:
    """A standalone SVG document of ``data``."""
    return _save(data, "svg", scale).decode("utf-8")


def _save(data: str, kind: str, scale: int) -> bytes:
    if type(scale) is not int or not 1 <= scale <= MAX_SCALE:
        raise RenderError(f"scale must be an int in 1..{MAX_SCALE}, got {scale!r}")
    out = io.BytesIO()
    symbol(data).save(out, kind=kind, scale=scale, border=QUIET_ZONE_MODULES)
    return out.getvalue()


def render_inline_svg(data: str, title: str) -> str:
    """An ``<svg>`` element to put inside a page: no XML declaration and no fixed size (it
    fills its box; the viewBox keeps the modules square), a white background under the
    quiet zone whatever the page's colour, and ``title`` (escaped) for screen readers."""
    out = io.BytesIO()
    symbol(data).save(
        out,
        kind="svg",
        border=QUIET_ZONE_MODULES,
        xmldecl=False,
        omitsize=True,
        title=title,
        svgclass="qr",
        lineclass=None,
        light="#fff",
        nl=False,
    )
    return out.getvalue().decode("utf-8")
