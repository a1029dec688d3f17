"""The repository is used without anything beside it: no tracked file names a path outside it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Built from parts so that this file does not match itself.
OUTSIDE = re.compile(r"\.\./" + "shared" + r"|parents\[\d+\]\s*/\s*[\"']" + "shared")


def test_no_tracked_file_reaches_outside_the_repository() -> None:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    offenders = []
    for name in listed.stdout.splitlines():
        path = ROOT / name
        if name.startswith(".ci/") or not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore")
        offenders += [f"{name}:{n}" for n, line in enumerate(text.splitlines(), 1) if OUTSIDE.search(line)]
    assert offenders == []


def test_fixtures_name_their_sources() -> None:
    for folder in (ROOT / "tests" / "fixtures").iterdir():
        if folder.is_dir() and folder.name != "LICENSES":
            assert (folder / "SOURCES.md").is_file(), folder
