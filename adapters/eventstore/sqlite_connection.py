"""A sqlite3 connection on its own thread (`sqlite3` blocks; the event loop must not)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


class ConnectionThread:
    """One sqlite3 connection, used only from its own single thread. Without ``create`` the
    database file must exist (it is never created) and its journal mode is left as it is."""

    def __init__(self, path: str, name: str, *, create: bool = True) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._path = path
        self._create = create
        self.conn: sqlite3.Connection | None = None

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._call, fn)

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self.conn is None:
            self.conn = connect(self._path, create=self._create)
        return fn(self.conn)

    async def close(self) -> None:
        def _close(conn: sqlite3.Connection) -> None:
            conn.close()

        if self.conn is not None:
            await self.run(_close)
        self._executor.shutdown(wait=True)


def connect(path: str, *, create: bool = True) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves.
    if create:
        conn = sqlite3.connect(path, isolation_level=None, timeout=30.0)
        conn.execute("PRAGMA journal_mode=WAL")  # persistent: stores created here stay in WAL mode
    else:
        uri = f"{Path(path).absolute().as_uri()}?mode=rw"  # rw, not rwc: a missing file is an error
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30.0)
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn
