"""``citysettle qr``: make a VietQR payload or image, or read a payload back as JSON.

    citysettle qr vietqr --bin BIN --account ACC [--amount N] [--bill X] [--reference X]
        [--terminal X] [--purpose TEXT] [--name NAME] [--city CITY] [--mcc MCC] [--card]
        [--format payload|png|svg] [--out FILE]
    citysettle qr decode PAYLOAD

Exit status 0 on success, 1 on invalid input (the reason, naming the tag, on stderr), 2
when ``--out`` cannot be written (one line saying what to give instead).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ops.cli.output_paths import file_problem
from qr import vietqr
from qr.errors import QRError
from qr.render import render_png, render_svg

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
OUT_HINT = "give --out a file name in a folder you can write"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds ``qr`` with its sub-commands to the top-level ``citysettle`` parser."""
    qr_parser = subparsers.add_parser("qr", help="VietQR payloads and QR images")
    qr_commands = qr_parser.add_subparsers(dest="qr_command", required=True)

    make = qr_commands.add_parser(
        "vietqr",
        help="print a VietQR payload (or write its PNG/SVG)",
        description="Free text (name, city, purpose) loses diacritics and punctuation and "
        "is cut to its field limit. A code with an amount, bill or reference is dynamic.",
    )
    make.add_argument("--bin", dest="bank_bin", required=True, help="acquirer BIN, 6 digits")
    make.add_argument("--account", required=True, help="account number (card number with --card)")
    make.add_argument("--amount", dest="amount_vnd", type=int, metavar="N", help="amount in VND")
    make.add_argument("--bill", help="bill number (tag 62.01)")
    make.add_argument("--reference", help="reference label (tag 62.05)")
    make.add_argument("--terminal", help="terminal label (tag 62.07)")
    make.add_argument("--purpose", metavar="TEXT", help="purpose / transfer note (tag 62.08)")
    make.add_argument("--name", help="beneficiary name (tag 59)")
    make.add_argument("--city", help="city (tag 60)")
    make.add_argument("--mcc", help="merchant category code, 4 digits (tag 52)")
    make.add_argument("--card", action="store_true", help="pay to a card (QRIBFTTC)")
    make.add_argument("--format", choices=("payload", "png", "svg"), default="payload")
    make.add_argument("--out", type=Path, metavar="FILE", help="write here instead of stdout")
    make.set_defaults(handler=run_vietqr)

    read = qr_commands.add_parser("decode", help="print a VietQR payload's fields as JSON")
    read.add_argument("payload", metavar="PAYLOAD")
    read.set_defaults(handler=run_decode)


def run_vietqr(args: argparse.Namespace) -> int:
    try:
        payload = vietqr.encode(
            vietqr.build(
                args.bank_bin,
                args.account,
                amount_vnd=args.amount_vnd,
                card=args.card,
                mcc=args.mcc,
                name=args.name,
                city=args.city,
                bill=args.bill,
                reference=args.reference,
                terminal=args.terminal,
                purpose=args.purpose,
            )
        )
        output = _output(payload, args.format)
    except QRError as error:
        return _fail("vietqr", str(error))
    if args.out is not None:
        problem = file_problem(args.out)
        try:
            if problem is None:
                args.out.write_bytes(output)
        except OSError as error:
            problem = error.strerror or str(error)
        if problem is not None:
            _fail("vietqr", f"cannot write {args.out}: {problem}; {OUT_HINT}")
            return EXIT_USAGE
    elif args.format == "png" and sys.stdout.isatty():
        return _fail("vietqr", "refusing to write a PNG to a terminal; use --out FILE")
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(output)
        sys.stdout.buffer.flush()
    return EXIT_OK


def run_decode(args: argparse.Namespace) -> int:
    # Whitespace cannot be part of a payload's ends (it starts with "00" and ends with
    # the CRC), so trimming only forgives a pasted newline.
    try:
        fields = vietqr.decode(args.payload.strip())
    except QRError as error:
        return _fail("decode", f"invalid payload: {error}")
    sys.stdout.write(json.dumps(as_json(fields), ensure_ascii=False, indent=2) + "\n")
    return EXIT_OK


def as_json(fields: vietqr.VietQR) -> dict[str, str | int | None]:
    """The decode output: every field, ``null`` when absent, enums by lower-case name."""
    return {
        "bank_bin": fields.bank_bin,
        "account": fields.account,
        "service": fields.service.name.lower(),
        "initiation": fields.initiation.name.lower(),
        "amount_vnd": fields.amount_vnd,
        "mcc": fields.mcc,
        "name": fields.name,
        "city": fields.city,
        "bill": fields.bill,
        "reference": fields.reference,
        "terminal": fields.terminal,
        "purpose": fields.purpose,
    }


def _output(payload: str, kind: str) -> bytes:
    if kind == "png":
        return render_png(payload)
    if kind == "svg":
        return render_svg(payload).encode("utf-8")
    return (payload + "\n").encode("ascii")


def _fail(command: str, message: str) -> int:
    print(f"citysettle qr {command}: {message}", file=sys.stderr)
    return EXIT_INVALID
