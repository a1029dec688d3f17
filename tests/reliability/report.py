"""``make reliability``'s table: one row per suite from the verdicts the run kept
(`runs.record`), printed and written to ``bench/results/reliability.json``.

Run: ``python -m tests.reliability.report FOLDER [--out FILE]``."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = (
    ("suite", "suite"),
    ("trials", "trials"),
    ("acknowledged", "acknowledged"),
    ("lost", "lost"),
    ("applied_twice", "applied twice"),
    ("imbalance_vnd", "imbalance (VND)"),
    ("verify_ok", "verify"),
    ("replay_ok", "replay"),
    ("recovery_s", "recovery (s)"),
)


def cell(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key == "verify_ok":
        return "intact" if value else "BROKEN"
    if key == "replay_ok":
        return "identical" if value else "DIFFERENT"
    return str(value)


def table(suites: dict[str, dict[str, Any]]) -> str:
    rows = [[title for _, title in COLUMNS]]
    for name, result in suites.items():
        rows.append([cell(k, name if k == "suite" else result.get(k)) for k, _ in COLUMNS])
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    lines.insert(1, "|" + "|".join(" --- " for _ in COLUMNS) + "|")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "reliability.json")
    args = parser.parse_args(argv)
    files = sorted(args.folder.glob("*.json")) if args.folder.is_dir() else []
    suites = {f.stem: json.loads(f.read_text()) for f in files}
    if not suites:
        print(f"reliability: no results in {args.folder} (did the run start?)")
        return 1
    print(table(suites))
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    document = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared), Python {platform.python_version()}",
        "uptime_after": uptime,
        "suites": suites,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"written: {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    failed = [n for n, s in suites.items() if s.get("lost") or s.get("applied_twice") or s.get("imbalance_vnd")]
    failed += [n for n, s in suites.items() if not (s.get("verify_ok") and s.get("replay_ok")) or s.get("problems")]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
