"""README smoke test: the README's commands, run as a reader would run them.

In a temporary directory that holds only links to this checkout's ``.venv`` and
``pyproject.toml`` (so the Makefile finds its venv installed), ``make run`` is started
in the background on a port of its own, with a small demo day (``DEMO_ARGS=--size 60``),
and stopped after every ```console block of README.md has run, in order, in one bash
session (``tests/support/readme.py`` says how blocks are read). The reader's
``CITYSETTLE_PORT`` is the test's port; no other ``CITYSETTLE_*`` variable is set. Each
command must exit as the README says and print what it shows; each page the README
sends the newcomer to must answer. ```text synopses are checked against each command's
``--help``; which blocks are not run, and why, is written in README.md beside each."""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from ops.cli import build_parser
from tests.support.live import free_port
from tests.support.readme import README, ROOT, Command, blocks, problems, synopses

VENV = Path(sys.prefix)
START_TIMEOUT_S = 180.0
CLICKED = re.compile(r"http://127\.0\.0\.1:8080(/[A-Za-z0-9/._?=&-]*)")


def reader_env(port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYSETTLE_") and k != "VIRTUAL_ENV"}
    return {**env, "CITYSETTLE_PORT": str(port), "LC_ALL": "C.UTF-8"}


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture(scope="module")
def made_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    """``make run`` in a fresh directory, serving the demo day on a port of the test's."""
    if not (VENV / "bin" / "citysettle").exists() or Path(sys.base_prefix) == VENV:
        pytest.skip("needs the project's venv with the citysettle command (make install)")
    home = tmp_path_factory.mktemp("reader")
    (home / ".venv").symlink_to(VENV)
    (home / "pyproject.toml").symlink_to(ROOT / "pyproject.toml")
    port = free_port()
    env = reader_env(port)
    log = (home / "make-run.log").open("wb")
    command = ["make", "-f", str(ROOT / "Makefile"), "run", f"PORT={port}", "DEMO_ARGS=--size 60"]
    make = subprocess.Popen(command, cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while get_ready(port) != 200:
            assert make.poll() is None, (home / "make-run.log").read_text(errors="replace")
            assert time.monotonic() < deadline, "make run did not serve in time"
            time.sleep(0.5)
        yield home, port
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGTERM)
            try:
                make.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(make.pid, signal.SIGKILL)
                make.wait()
        log.close()


def get_ready(port: int) -> int:
    try:
        return get(f"http://127.0.0.1:{port}/readyz")
    except OSError:
        return 0


def session_script(commands: list[Command], out: Path) -> str:
    """One bash session: each command's output to its own files, and its status; the
    session stops at the first command that does not exit as the README says."""
    lines = []
    for n, command in enumerate(commands):
        lines.append(f"{{ {command.text}\n}} > {out}/{n}.out 2> {out}/{n}.err")
        lines.append(f'echo $? > {out}/{n}.rc; [ "$(cat {out}/{n}.rc)" = {command.status} ] || exit 97')
    return "\n".join(lines) + "\n"


def test_the_readme_commands_run_as_written(made_run: tuple[Path, int]) -> None:
    home, port = made_run
    found = blocks()
    commands = [c for b in found for c in b.commands]
    assert len(commands) >= 15, "the README shows the newcomer, the operator and the auditor what to type"
    out = home / "readme-outputs"
    out.mkdir()
    session = subprocess.run(
        ["bash", "-c", session_script(commands, out)],
        cwd=home,
        env=reader_env(port),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    for n, command in enumerate(commands):
        where = f"README.md:{command.line}: {command.text}"
        rc_file = out / f"{n}.rc"
        assert rc_file.exists(), f"{where}: not reached ({session.stderr})"
        printed = (out / f"{n}.out").read_text(errors="replace") + (out / f"{n}.err").read_text(errors="replace")
        status = int(rc_file.read_text())
        assert status == command.status, f"{where}: exit {status}, the README says {command.status}\n{printed}"
        for fragment in command.output:
            assert all(part in printed for part in fragment.split("...")), f"{where}: no {fragment!r} in\n{printed}"
    assert session.returncode == 0, session.stderr


def test_the_pages_the_readme_sends_to_answer(made_run: tuple[Path, int]) -> None:
    _, port = made_run
    paths = sorted(set(CLICKED.findall(README.read_text(encoding="utf-8"))))
    assert "/finance/login" in paths
    assert "/openapi.json" in paths
    for path in paths:
        assert get(f"http://127.0.0.1:{port}{path}") == 200, path


def test_every_command_of_the_synopsis_exists_with_the_options_it_names() -> None:
    entries = [s for b in blocks() if b.synopsis for s in synopses(b)]
    assert len(entries) >= 10
    top = build_parser()
    for entry in entries:
        for command in entry.commands:
            known = _options(top) | _options(_subcommand(top, command, entry.line))
            unknown = [o for o in entry.options if o not in known]
            assert not unknown, f"README.md:{entry.line}: `citysettle {' '.join(command)}` has no {unknown}"


def _subcommand(parser: argparse.ArgumentParser, command: tuple[str, ...], line: int) -> argparse.ArgumentParser:
    for word in command:
        choices = [a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        assert choices, f"README.md:{line}: `{word}` after a command without sub-commands"
        assert word in choices[0], f"README.md:{line}: no command `{word}` in `citysettle {' '.join(command)}`"
        parser = choices[0][word]
    return parser


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings}


def test_every_command_block_is_run_or_says_why_not() -> None:
    assert problems(blocks()) == []


def test_the_readme_links_only_files_of_the_repository() -> None:
    text = README.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
        if not target.startswith(("http://", "https://")):
            assert (ROOT / target).exists(), target


def test_the_summary_the_newcomer_reads_ids_from_is_written(made_run: tuple[Path, int]) -> None:
    home, _ = made_run
    summary = json.loads((home / "var" / "demo" / "summary.json").read_text(encoding="utf-8"))
    assert summary["reconciliation"]["run_id"]
