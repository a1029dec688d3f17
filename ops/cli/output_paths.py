"""Where a command is told to write (``--out``): checked before it records anything, so that
a path it cannot write is one line to the operator rather than a traceback after the work
(or, worse, after the events that the file should accompany were committed)."""

from __future__ import annotations

import os
from pathlib import Path


def folder_problem(path: Path) -> str | None:
    """Why files cannot be written into folder ``path`` (made when missing), or None."""
    if path.exists():
        return None if path.is_dir() else "it is a file, not a folder"
    existing = next(parent for parent in path.absolute().parents if parent.exists())
    if not existing.is_dir():
        return f"{existing} is a file, not a folder"
    return _access_problem(existing)


def file_problem(path: Path) -> str | None:
    """Why file ``path`` cannot be written (its folder must exist), or None."""
    if path.is_dir():
        return "it is a folder"
    folder = path.absolute().parent
    if not folder.exists():
        return f"folder {folder} does not exist"
    if not folder.is_dir():
        return f"{folder} is a file, not a folder"
    if path.exists() and not os.access(path, os.W_OK):
        return "permission denied"
    return _access_problem(folder)


def _access_problem(folder: Path) -> str | None:
    return None if os.access(folder, os.W_OK | os.X_OK) else f"permission denied in {folder}"
