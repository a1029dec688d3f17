"""QR benchmark (issue 4): VietQR payloads, PNG renders, e-ticket signing and verification.

Each figure is the median of ``--rounds`` timed rounds of ``--round-s`` seconds after a
warm-up round, because the machine is shared and single rounds jitter. Inputs cycle over
a pool of distinct field sets and tickets, so no figure measures a cached answer.

- ``vietqr_encode_per_s``: ``encode`` of an already validated ``VietQR`` (goal 50,000);
- ``vietqr_build_encode_per_s``: ``build`` (text cleaning, validation) then ``encode``,
  what a payment request costs end to end;
- ``vietqr_decode_per_s``: ``decode`` with CRC and every field check;
- ``png_render_per_s`` / ``svg_render_per_s``: one full symbol each, default scale;
- ``ticket_sign_per_s`` / ``ticket_verify_per_s``: one process (goal 10,000 verifies);
- ``ed25519_verify_per_s``: bare ``cryptography`` verify of the same message size, the
  ceiling for ``ticket_verify_per_s`` (``ratio_ticket_verify_vs_ed25519``);
- ``ticket_verify_2proc_per_s``: two processes verifying at once (one per core).

Results are printed and written to ``bench/results/qr.json``.
Run: ``.venv/bin/python bench/qr.py`` (about a minute).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib.metadata import version as package_version
from multiprocessing.synchronize import Barrier
from pathlib import Path
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

# Run as a script, this file's folder comes first on sys.path and this module would
# shadow the ``qr`` package it measures.
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [entry for entry in sys.path if str(Path(entry or ".").resolve()) != _HERE]

from qr.render import render_png, render_svg  # noqa: E402 -- after the sys.path fix
from qr.ticket_keys import TicketKeyRing, TicketSigner  # noqa: E402 -- after the sys.path fix
from qr.tickets import Ticket  # noqa: E402 -- after the sys.path fix
from qr.vietqr import VietQR, build, decode, encode  # noqa: E402 -- after the sys.path fix

RESULTS = Path(__file__).resolve().parent / "results" / "qr.json"
POOL_SIZE = 1000
START = datetime(2026, 6, 1, 5, 0, tzinfo=UTC)
AT = START + timedelta(minutes=30)


def _payment_inputs(index: int) -> dict[str, object]:
    return {
        "bank_bin": f"9704{index % 100:02d}",
        "account": f"{10**12 + index * 7919}",
        "amount_vnd": 5_000 + index * 1_000,
        "name": "Trung tâm Phục vụ hành chính công",
        "city": "Đà Nẵng",
        "bill": f"HS-2026-{index:06d}",
        "purpose": f"Lệ phí hồ sơ {index}",
    }


def _fields_pool() -> list[VietQR]:
    return [build(**_payment_inputs(index)) for index in range(POOL_SIZE)]  # type: ignore[arg-type]


def _ticket(index: int) -> Ticket:
    return Ticket(
        ticket_id=UUID(int=index + 1),
        product="BUS-SINGLE",
        valid_from=START,
        valid_until=START + timedelta(hours=2),
        holder_ref=f"app:{index:08d}",
    )


def _signer() -> TicketSigner:
    return TicketSigner(1, Ed25519PrivateKey.from_private_bytes(bytes(range(32))))


def rate(operation: Callable[[int], object], rounds: int, round_s: float) -> float:
    """Median operations per second over ``rounds`` rounds, after one warm-up round."""
    rates: list[float] = []
    for round_index in range(rounds + 1):
        count = 0
        started = time.perf_counter()
        deadline = started + round_s
        while True:
            for _ in range(100):  # check the clock every 100 calls, not every call
                operation(count)
                count += 1
            now = time.perf_counter()
            if now >= deadline:
                break
        if round_index:
            rates.append(count / (now - started))
    return statistics.median(rates)


def _verify_worker(barrier: Barrier, round_s: float, counts: multiprocessing.Queue[int]) -> None:
    signer = _signer()
    ring = TicketKeyRing({signer.key_id: signer.public_key})
    codes = [signer.sign(_ticket(index)) for index in range(POOL_SIZE)]
    barrier.wait()
    count, deadline = 0, time.perf_counter() + round_s
    while time.perf_counter() < deadline:
        for code in codes[:100]:
            ring.verify(code, AT)
        count += 100
        codes = codes[100:] + codes[:100]
    counts.put(count)


def two_process_verify_rate(rounds: int, round_s: float) -> float:
    context = multiprocessing.get_context("spawn")
    rates: list[float] = []
    for _ in range(rounds):
        barrier = context.Barrier(3)
        counts: multiprocessing.Queue[int] = context.Queue()
        workers = [context.Process(target=_verify_worker, args=(barrier, round_s, counts)) for _ in range(2)]
        for worker in workers:
            worker.start()
        barrier.wait()
        started = time.perf_counter()
        total = counts.get() + counts.get()
        rates.append(total / (time.perf_counter() - started))
        for worker in workers:
            worker.join()
    return statistics.median(rates)


def measure(rounds: int, round_s: float) -> dict[str, float]:
    fields = _fields_pool()
    payloads = [encode(item) for item in fields]
    inputs = [_payment_inputs(index) for index in range(POOL_SIZE)]
    signer = _signer()
    ring = TicketKeyRing({signer.key_id: signer.public_key})
    tickets = [_ticket(index) for index in range(POOL_SIZE)]
    codes = [signer.sign(ticket) for ticket in tickets]
    private_key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    message = bytes(len(codes[0]) * 2 // 3)
    signature = private_key.sign(message)
    public_key = private_key.public_key()
    pool = POOL_SIZE

    def check_raw(_: int) -> None:
        public_key.verify(signature, message)

    return {
        "vietqr_encode_per_s": rate(lambda i: encode(fields[i % pool]), rounds, round_s),
        "vietqr_build_encode_per_s": rate(
            lambda i: encode(build(**inputs[i % pool])),  # type: ignore[arg-type]
            rounds,
            round_s,
        ),
        "vietqr_decode_per_s": rate(lambda i: decode(payloads[i % pool]), rounds, round_s),
        "png_render_per_s": rate(lambda i: render_png(payloads[i % pool]), rounds, round_s),
        "svg_render_per_s": rate(lambda i: render_svg(payloads[i % pool]), rounds, round_s),
        "ticket_sign_per_s": rate(lambda i: signer.sign(tickets[i % pool]), rounds, round_s),
        "ticket_verify_per_s": rate(lambda i: ring.verify(codes[i % pool], AT), rounds, round_s),
        "ed25519_verify_per_s": rate(check_raw, rounds, round_s),
        "ticket_verify_2proc_per_s": two_process_verify_rate(rounds, round_s),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--round-s", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    # The machine is shared: the load before the run says how much to trust the figures.
    load_avg_1m_before = os.getloadavg()[0]
    figures = measure(args.rounds, args.round_s)
    results: dict[str, object] = {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine_nproc": os.cpu_count(),
        "machine_platform": platform.platform(),
        "load_avg_1m_before": round(load_avg_1m_before, 2),
        "python": platform.python_version(),
        "segno_version": package_version("segno"),
        "cryptography_version": package_version("cryptography"),
        "rounds": args.rounds,
        "round_s": args.round_s,
        **{name: round(value) for name, value in figures.items()},
        "ratio_ticket_verify_vs_ed25519": round(figures["ticket_verify_per_s"] / figures["ed25519_verify_per_s"], 3),
        "ticket_code_chars": len(_signer().sign(_ticket(0))),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
