"""Progress bars of the long commands (export, verify, replay): on a terminal only.

A bar is drawn on stderr when stderr is a terminal, and cleared when the work is done;
piped or redirected (scripts, tests, CI), nothing is written, so stdout and stderr
carry only the command's own output."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm import tqdm


@contextmanager
def progress(description: str, total: int | None, unit: str = "event") -> Iterator[Callable[[int], object]]:
    """Yield the function to call with how many more units are done."""
    with tqdm(
        total=total,
        desc=description,
        unit=unit,
        unit_scale=True,
        leave=False,
        file=sys.stderr,
        disable=not sys.stderr.isatty(),
    ) as bar:
        yield bar.update
