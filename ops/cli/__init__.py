"""The ``citysettle`` command line (names are a public contract, see ARCHITECTURE.md)."""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import logging
import os
import sys
from collections.abc import Collection, Sequence
from typing import NoReturn

from ops.config import CONFIG_ENV, ConfigError

EXIT_USAGE = 2


# Every command, the module of ops.cli that registers it, and its line in ``--help``. A
# command's module is imported only when that command runs: importing all of them costs
# each run (and every subprocess of the tests) the whole service. tests/unit/ops/test_cli.py
# checks this table against what the modules register.
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("serve", "run the HTTP service"),
    "audit": ("audit", "verify or replay the event history"),
    "export": ("audit", "export history"),
    "backup": (
        "backup",
        "copy the store while it runs: SQLite's online backup, or pg_dump --format=custom on PostgreSQL",
    ),
    "restore": ("backup", "make a backup a store again, in a new SQLite file or an empty PostgreSQL database"),
    "banks": ("banks", "bank connectors: who may post bank notifications"),
    "call": ("call", "sign and send one API request (a newcomer's curl)"),
    "clients": ("clients", "API clients and their signing keys"),
    "config": ("config", "the service's configuration"),
    "demo": ("demo", "seed an empty store with a demo day of a Hanoi ward, then serve it"),
    "qr": ("qr", "VietQR payloads and QR images"),
    "users": ("users", "finance desk users (/finance): who may sign in, with which role"),
    "reconcile": ("reconcile", "reconcile a bank statement against the ledger; write reports"),
    "resolve": ("resolve", "resolve one exception of a recorded reconciliation run"),
    "settle": ("settle", "close the day's settlement batches and write the pain.001 payout file"),
}


def _add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="FILE",
        help=f"TOML file of settings (default ${CONFIG_ENV}); the environment overrides it, flags override both",
    )


def _parser(modules: Collection[str] | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="citysettle", description=__doc__)
    _add_config(parser)
    commands = parser.add_subparsers(dest="command", required=True)
    registered: set[str] = set()
    for name, (module, help_line) in COMMANDS.items():
        if modules is not None and module not in modules:
            commands.add_parser(name, help=help_line, add_help=False)
        elif module not in registered:
            registered.add(module)
            importlib.import_module(f"{__name__}.{module}").register(commands)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command (imports every command's module)."""
    return _parser(None)


def parser_for(command: str | None) -> argparse.ArgumentParser:
    """The parser of ``command`` alone: the others are named by their help line only, so
    that only its module is imported (none when ``command`` is None)."""
    return _parser({COMMANDS[command][0]} if command in COMMANDS else set())


class _Unreadable(Exception):
    pass


class _CommandName(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _Unreadable(message)


def chosen_command(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names, read as the full parser reads it (None: none, or an
    unknown one: the full parser then says what is wrong, as it always did)."""
    reader = _CommandName(prog="citysettle", add_help=False)
    _add_config(reader)
    reader.add_argument("command", nargs="?")
    reader.add_argument("rest", nargs=argparse.REMAINDER)
    try:
        known, _ = reader.parse_known_args(argv)
    except _Unreadable:
        return None
    command: str | None = known.command
    return command if command in COMMANDS else None


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    arguments = sys.argv[1:] if argv is None else list(argv)
    args = parser_for(chosen_command(arguments)).parse_args(arguments)
    if args.config is not None:  # through the environment: serve's workers read it too
        os.environ[CONFIG_ENV] = args.config
    try:
        code = args.handler(args)
        sys.stdout.flush()  # here, not at exit: a failed write must be reported like any other
    except ConfigError as exc:
        print(f"citysettle: configuration error: {exc}", file=sys.stderr)
        code = EXIT_USAGE
    except BrokenPipeError:  # e.g. `citysettle export events | head`: the reader left
        _drop_stdout()
        sys.stderr.close()
        code = 0
    except OSError as exc:
        if exc.errno not in _DEVICE_ERRORS:
            raise
        # the disk is full (or failing) under the output or a file being written: nothing a bug
        # report helps with; the commands that record something write their files first
        print(f"citysettle: cannot write {exc.filename or 'the output'}: {exc.strerror}", file=sys.stderr)
        _drop_stdout()
        code = EXIT_USAGE
    sys.exit(code)


# errors of the device written to, not of the program: one line instead of a traceback
_DEVICE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS})


def _drop_stdout() -> None:
    """Discard what could not be written, so that the interpreter's flush at exit does not
    fail a second time (and print "Exception ignored")."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
