"""Running the real `citysettle` command line, as an operator would, from the repository."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def citysettle(*args: str) -> subprocess.CompletedProcess[str]:
    """``citysettle ARGS``: exit code, stdout and stderr; never raises on a non-zero exit."""
    return subprocess.run(
        [sys.executable, "-m", "ops.cli", *args], capture_output=True, text=True, check=False, cwd=ROOT
    )
