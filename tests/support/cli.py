"""Running the real `citysettle` command line, as an operator would, from the repository."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from ops.config import Config
from ops.stores import open_store

ROOT = Path(__file__).resolve().parents[2]


def citysettle(*args: str) -> subprocess.CompletedProcess[str]:
    """``citysettle ARGS``: exit code, stdout and stderr; never raises on a non-zero exit."""
    return subprocess.run(
        [sys.executable, "-m", "ops.cli", *args], capture_output=True, text=True, check=False, cwd=ROOT
    )


def new_store(url: str) -> str:
    """An empty event store at ``url``, as `citysettle serve` sets one up before anything is
    recorded; the finance commands (reconcile, resolve, settle) open existing stores only."""

    async def create() -> None:
        store = await open_store(Config(store_url=url))
        await store.close()

    asyncio.run(create())
    return url
