"""Running the real `citysettle` command line, as an operator would, from the repository."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from ops.config import Config
from ops.stores import open_store

ROOT = Path(__file__).resolve().parents[2]


def settings_only(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any ``CITYSETTLE_*`` setting, then ``env``: a
    command configured by exactly what a test gives it."""
    return {k: v for k, v in os.environ.items() if not k.startswith("CITYSETTLE_")} | dict(env or {})


def citysettle(
    *args: str, env: Mapping[str, str] | None = None, timeout: float | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """``citysettle ARGS``: exit code, stdout and stderr; never raises on a non-zero exit.
    With ``env``, the command sees only those settings (`settings_only`)."""
    return subprocess.run(
        [sys.executable, "-m", "ops.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env=None if env is None else settings_only(env),
        timeout=timeout,
    )


def new_store(url: str) -> str:
    """An empty event store at ``url``, as `citysettle serve` sets one up before anything is
    recorded; the finance commands (reconcile, resolve, settle) open existing stores only."""

    async def create() -> None:
        store = await open_store(Config(store_url=url))
        await store.close()

    asyncio.run(create())
    return url
