"""The ``citysettle`` command line (names are a public contract, see ARCHITECTURE.md)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from aiohttp import web

from ops import audit, cli_banks, cli_call, cli_clients, cli_qr, reconcile, resolve, settle
from ops.app import create_app
from ops.cli_types import bounded_int
from ops.config import Config, ConfigError

EXIT_USAGE = 2


def _serve(args: argparse.Namespace) -> int:
    config = Config.from_env().with_overrides(store_url=args.store, host=args.host, port=args.port)
    _install_uvloop()
    logging.getLogger(__name__).info("starting %r", config)
    web.run_app(
        create_app(config),
        host=config.host,
        port=config.port,
        shutdown_timeout=config.shutdown_timeout_s,
        print=None,
        access_log_format='%a "%r" %s %b %Tfs',
    )
    return 0


def _install_uvloop() -> None:
    try:
        import uvloop
    except ImportError:  # uvloop does not build on every platform; asyncio's loop works too
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="citysettle", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--store", help="event store URL (default: $CITYSETTLE_STORE or embedded SQLite)")
    serve.add_argument("--host", help="listen address (default 127.0.0.1)")
    serve.add_argument("--port", type=bounded_int(1, 65_535), help="listen port, 1-65535 (default 8080)")
    serve.set_defaults(handler=_serve)

    audit.register(commands)
    cli_banks.register(commands)
    cli_call.register(commands)
    cli_clients.register(commands)
    cli_qr.register(commands)
    reconcile.register(commands)
    resolve.register(commands)
    settle.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        code = args.handler(args)
    except ConfigError as exc:
        print(f"citysettle: configuration error: {exc}", file=sys.stderr)
        code = EXIT_USAGE
    except BrokenPipeError:  # e.g. `citysettle export events | head`: the reader left
        sys.stderr.close()
        code = 0
    sys.exit(code)


if __name__ == "__main__":
    main()
