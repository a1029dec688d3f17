"""The one failure a statement import reports: the file cannot be read as a statement."""

from __future__ import annotations


class StatementError(ValueError):
    """Unreadable or malformed statement input; the message says where and why."""
