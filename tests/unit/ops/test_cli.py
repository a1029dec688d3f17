"""The command line imports only the module of the command that runs (ops/cli/__init__.py)."""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ops.cli import COMMANDS, build_parser, chosen_command

ROOT = Path(__file__).resolve().parents[3]


def _subcommands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def test_the_table_names_every_command_with_the_help_its_module_gives() -> None:
    registered = [(choice.dest, choice.help) for choice in _subcommands(build_parser())._choices_actions]
    assert registered == [(name, help_line) for name, (_, help_line) in COMMANDS.items()]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_module_named_for_a_command_registers_it(name: str) -> None:
    commands = argparse.ArgumentParser().add_subparsers()
    importlib.import_module(f"ops.cli.{COMMANDS[name][0]}").register(commands)
    assert name in commands.choices


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["config", "check"], "config"),
        (["--config", "settings.toml", "audit", "verify"], "audit"),
        (["--config=settings.toml", "export", "events"], "export"),
        (["--config", "audit", "serve"], "serve"),  # "audit" is the file's name here
        (["-h"], None),
        ([], None),
        (["bogus"], None),
        (["--config"], None),
    ],
)
def test_the_command_is_read_as_the_parser_reads_it(argv: list[str], command: str | None) -> None:
    assert chosen_command(argv) == command


def _modules_after(argv: list[str] | None) -> list[str]:
    """The modules loaded once the parser of ``argv``'s command read it (None: no command)."""
    parse = "parser_for(None)" if argv is None else f"parser_for(chosen_command({argv!r})).parse_args({argv!r})"
    script = "\n".join(
        [
            "import json, sys",
            "from ops.cli import chosen_command, parser_for",
            parse,
            "print(json.dumps(sorted(sys.modules)))",
        ]
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT)
    modules: list[str] = json.loads(done.stdout)
    return modules


def test_a_command_imports_its_own_module_and_not_the_service() -> None:
    modules = _modules_after(["config", "check"])
    assert [m for m in modules if m.startswith("ops.cli.")] == ["ops.cli.config"]
    assert "ops.app" not in modules
    assert "aiohttp" not in modules


def test_another_command_imports_its_own_module_alone() -> None:
    modules = _modules_after(["qr", "decode", "x"])
    command_modules = {f"ops.cli.{module}" for module, _ in COMMANDS.values()}
    assert [m for m in modules if m in command_modules] == ["ops.cli.qr"]  # its helpers may come along


def test_no_command_named_imports_no_command_module() -> None:
    assert [m for m in _modules_after(None) if m.startswith("ops.cli.")] == []
