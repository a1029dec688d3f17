"""``citysettle config check``: the effective configuration, from the TOML file
(``--config FILE`` or ``CITYSETTLE_CONFIG``) and the environment over it, printed as TOML
with each value's source and the secrets masked; each bad value named on stderr (exit 2).
Beyond the values themselves it reads the checkpoint key file and key ring they name, as
``serve`` and ``audit verify`` would. It opens no store."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from adapters.eventstore.checkpoints import CheckpointKeyError, CheckpointSigner, KeyRing
from ops.config import Config, Loaded, effective, load

EXIT_BAD = 2


def file_problems(config: Config) -> list[str]:
    """What the files the configuration names would refuse at start."""
    problems = []
    if config.checkpoint_key_file is not None:
        try:
            CheckpointSigner.from_pem_file(config.checkpoint_key_file)
        except CheckpointKeyError as exc:
            problems.append(f"CITYSETTLE_CHECKPOINT_KEY_FILE: {exc}")
    if config.checkpoint_keyring_file is not None:
        try:
            KeyRing.from_json_file(config.checkpoint_keyring_file)
        except CheckpointKeyError as exc:
            problems.append(f"CITYSETTLE_CHECKPOINT_KEYRING: {exc}")
    return problems


def check(loaded: Loaded) -> tuple[str, list[str], list[str]]:
    """The effective configuration, its problems and its warnings."""
    return effective(loaded), loaded.problems + file_problems(loaded.config(strict=False)), loaded.warnings


def _check_command(_args: argparse.Namespace) -> int:
    shown, problems, warnings = check(load(os.environ))
    sys.stdout.write(shown)
    for warning in warnings:
        print(f"citysettle config: warning: {warning}", file=sys.stderr)
    for problem in problems:
        print(f"citysettle config: {problem}", file=sys.stderr)
    return EXIT_BAD if problems else 0


def register(commands: Any) -> None:
    group = commands.add_parser("config", help="the service's configuration")
    sub = group.add_subparsers(dest="config_command", required=True)
    check_cmd = sub.add_parser(
        "check",
        help="print the effective configuration (secrets masked) with each value's source; "
        "exit 2 naming every bad value",
    )
    check_cmd.set_defaults(handler=_check_command)
