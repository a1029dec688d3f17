"""``python -m ops.cli``: the ``citysettle`` command."""

from ops.cli import main

main()
