"""``citysettle serve``: the HTTP service, in one process or N workers on one port (`ops.serving`)."""

from __future__ import annotations

import argparse
from typing import Any

from ops import logs, serving
from ops.config import Config


def _serve(args: argparse.Namespace) -> int:
    config = Config.from_env().with_overrides(store_url=args.store, host=args.host)
    logs.configure(config.log_format, config.log_level)
    workers = serving.parse_workers(args.workers)
    port = serving.parse_port(config.host, args.port)
    return serving.serve(config.with_overrides(port=port), workers)


def register(commands: Any) -> None:
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
