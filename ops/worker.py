"""One worker of ``citysettle serve --workers N`` (started by `ops.serving.Supervisor`):
serves with SO_REUSEPORT on the port its parent gave it, and stops when the parent is
gone (SIGKILLed parents cannot stop their workers, and orphans would hold the port)."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

from ops.config import Config, ConfigError
from ops.serving import run_worker

PARENT_CHECK_S = 1.0


def _leave_with_parent(parent: int) -> None:
    stopped = threading.Event()
    while not stopped.wait(PARENT_CHECK_S):
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGTERM)  # the graceful path: run_app finishes requests
            return


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s")
    threading.Thread(target=_leave_with_parent, args=(os.getppid(),), daemon=True, name="parent-watch").start()
    try:
        run_worker(Config.from_env(), reuse_port=True)
    except ConfigError as exc:  # the parent checked before starting us; this is a race (port taken since)
        print(f"citysettle worker: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
