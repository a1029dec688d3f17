"""The ``citysettle`` command line (names are a public contract, see ARCHITECTURE.md)."""

from __future__ import annotations

import argparse
import contextlib
import errno
import logging
import os
import sys
from collections.abc import Sequence

from ops import (
    audit,
    backup,
    cli_banks,
    cli_call,
    cli_clients,
    cli_demo,
    cli_qr,
    cli_users,
    reconcile,
    resolve,
    serving,
    settle,
)
from ops.config import Config, ConfigError

EXIT_USAGE = 2


def _serve(args: argparse.Namespace) -> int:
    config = Config.from_env().with_overrides(store_url=args.store, host=args.host)
    workers = serving.parse_workers(args.workers)
    port = serving.parse_port(config.host, args.port)
    return serving.serve(config.with_overrides(port=port), workers)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="citysettle", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--store", help="event store URL (default: $CITYSETTLE_STORE or embedded SQLite)")
    serve.add_argument("--host", help="listen address (default 127.0.0.1)")
    serve.add_argument("--port", help="listen port, 1-65535 (default 8080)")
    serve.add_argument(
        "--workers",
        default="1",
        help=f"processes serving the port (SO_REUSEPORT), 1-{serving.WORKERS_MAX} (default 1)",
    )
    serve.set_defaults(handler=_serve)

    audit.register(commands)
    backup.register(commands)
    cli_banks.register(commands)
    cli_call.register(commands)
    cli_clients.register(commands)
    cli_demo.register(commands)
    cli_qr.register(commands)
    cli_users.register(commands)
    reconcile.register(commands)
    resolve.register(commands)
    settle.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
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


if __name__ == "__main__":
    main()
