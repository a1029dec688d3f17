"""The verdict of a verification, shared by `audit verify` on a store and on an export:
the same JSON line and exit codes either way (docs/AUDIT.md)."""

from __future__ import annotations

import json
from typing import Any, TextIO

from adapters.eventstore.checkpoints import KeyRing
from domain.ports import ChainHead, Checkpoint

EXIT_TAMPERED = 4


class UnknownCheckpointKey(ValueError):
    """A checkpoint names a key the given keyring lacks: the operator's keyring is wrong
    (or incomplete), which says nothing yet about the history itself."""


def refuse_unknown_keys(checkpoints: list[Checkpoint], keyring: KeyRing | None) -> None:
    unknown = next((c for c in checkpoints if keyring is not None and not keyring.knows(c.key_id)), None)
    if unknown is not None:
        raise UnknownCheckpointKey(
            f"checkpoint at position {unknown.position} is signed by key {unknown.key_id}, which is not in the "
            "keyring; give the keyring that holds it (--keyring or $CITYSETTLE_CHECKPOINT_KEYRING)"
        )


def first_bad_signature(checkpoints: list[Checkpoint], keyring: KeyRing | None) -> tuple[int, str] | None:
    if keyring is None:
        return None
    for checkpoint in checkpoints:
        problem = keyring.problem_with(checkpoint)
        if problem is not None:
            return checkpoint.position, f"checkpoint {problem}"
    return None


def write_verdict(
    out: TextIO, head: ChainHead, problems: list[tuple[int, str]], checkpoints: int, checkpoints_verified: bool
) -> int:
    """One JSON line; exit 0 when there is no problem, else 4 naming the earliest one."""
    report: dict[str, Any] = {
        "verified_through": head.position,
        "head_hash": head.hash.hex(),
        "checkpoints": checkpoints,
        "checkpoints_verified": checkpoints_verified,
    }
    if not problems:
        out.write(json.dumps({"status": "intact", **report}) + "\n")
        return 0
    position, reason = min(problems)
    out.write(json.dumps({"status": "tampered", "first_bad_position": position, "reason": reason, **report}) + "\n")
    return EXIT_TAMPERED
