"""The command blocks of README.md, as the README smoke test reads them.

The convention (README.md, "How this README is tested"):

- a ```console block is run, in document order, in one shell session, as a reader who
  follows the README from the top would type it: each ``$ `` line is a command (a line
  ending in ``\\`` continues on the next), a trailing ``# exit N`` says the command is
  expected to exit N (default 0), and the lines after a command that are not commands
  are fragments its output must contain (``...`` stands for what is left out);
- a ```text block marked ``<!-- synopsis -->`` lists commands with placeholders: each
  line's command must exist and name only options its ``--help`` knows;
- any other block that holds a command must say why it is not run, in a
  ``<!-- not run: REASON -->`` line right before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"

FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
NOT_RUN = re.compile(r"<!--\s*not run:\s*(?P<reason>.*?)\s*-->\s*$", re.DOTALL)
SYNOPSIS = re.compile(r"<!--\s*synopsis\s*-->\s*$")
EXIT = re.compile(r"\s+#\s*exit\s+(?P<status>\d+)\s*$")
# what a line that holds a command starts with (a block of them must be run or say why not)
COMMAND_START = re.compile(r"^\s*(\$ |citysettle\b|\.venv/|make\b|docker\b|python|pip\b|\.\s|source\b|curl\b)")


@dataclass(frozen=True)
class Command:
    line: int  # in README.md, from 1
    text: str  # the command as the shell gets it (continuations joined)
    status: int = 0  # the exit status expected
    output: tuple[str, ...] = ()  # fragments its output must contain


@dataclass(frozen=True)
class Block:
    line: int  # of the opening fence, from 1
    info: str  # the fence's info string ("console", "sh", "text", ...)
    body: str
    not_run: str | None = None  # the reason given, when marked
    synopsis: bool = False
    commands: tuple[Command, ...] = field(default=())

    @property
    def holds_commands(self) -> bool:
        return any(COMMAND_START.match(line) for line in self.body.splitlines())


def blocks(text: str | None = None) -> list[Block]:
    text = README.read_text(encoding="utf-8") if text is None else text
    found = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n")
        marker = before.rsplit("\n", 1)[-1]
        line = text.count("\n", 0, match.start()) + 1
        info = match["info"].strip()
        not_run = NOT_RUN.search(marker)
        block = Block(
            line=line,
            info=info,
            body=match["body"],
            not_run=not_run["reason"] if not_run else None,
            synopsis=bool(SYNOPSIS.search(marker)),
            commands=tuple(_commands(match["body"], line + 1)) if info == "console" else (),
        )
        found.append(block)
    return found


def _commands(body: str, first_line: int) -> list[Command]:
    commands: list[Command] = []
    lines = body.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.startswith("$ "):
            if commands and line.strip() and line.strip() != "...":
                last = commands[-1]
                commands[-1] = Command(last.line, last.text, last.status, (*last.output, line.strip()))
            index += 1
            continue
        start = index
        parts = [line[2:]]
        while parts[-1].endswith("\\") and index + 1 < len(lines):
            index += 1
            parts.append(lines[index].strip())
        text = "\n".join(parts)
        status = 0
        if expected := EXIT.search(text):
            status = int(expected["status"])
            text = text[: expected.start()]
        commands.append(Command(first_line + start, text, status))
        index += 1
    return commands


def problems(found: list[Block]) -> list[str]:
    """Blocks that hold a command and are neither run nor say why not; markers without a
    reason; console blocks without a command."""
    wrong = []
    for block in found:
        if block.info == "console":
            if not block.commands:
                wrong.append(f"README.md:{block.line}: a console block without a `$ ` command")
            if block.not_run is not None:
                wrong.append(f"README.md:{block.line}: a console block is run; drop its not-run marker")
        elif block.not_run is not None:
            if not block.not_run:
                wrong.append(f"README.md:{block.line}: `not run:` needs a reason")
        elif block.synopsis:
            if block.info != "text":
                wrong.append(f"README.md:{block.line}: a synopsis is a ```text block")
        elif block.holds_commands:
            wrong.append(
                f"README.md:{block.line}: a ```{block.info} block holds commands: make it a ```console"
                " block (run by tests/integration/test_readme.py), or say `<!-- not run: REASON -->` before it"
            )
    return wrong


@dataclass(frozen=True)
class Synopsis:
    line: int
    text: str  # the entry, continuations joined, its comment dropped
    commands: tuple[tuple[str, ...], ...]  # the sub-commands it names (``a|b`` gives two)
    options: tuple[str, ...]  # every --option it names


WORD = re.compile(r"^[a-z][a-z0-9-]*(\|[a-z][a-z0-9-]*)*$")


def synopses(block: Block) -> list[Synopsis]:
    entries: list[tuple[int, str]] = []
    for offset, raw in enumerate(block.body.splitlines(), start=1):
        line = raw.split("  #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if raw.startswith("citysettle"):
            entries.append((block.line + offset, line))
        elif entries and line.strip():
            entries[-1] = (entries[-1][0], f"{entries[-1][1]} {line.strip()}")
    found = []
    for number, text in entries:
        tokens = re.sub(r"\[--config FILE\]", "", text).split()[1:]
        words: list[str] = []
        for token in tokens:
            if not WORD.match(token):
                break
            words.append(token)
        alternatives: list[tuple[str, ...]] = [()]
        for word in words:
            alternatives = [(*a, w) for a in alternatives for w in word.split("|")]
        found.append(
            Synopsis(number, text, tuple(alternatives), tuple(dict.fromkeys(re.findall(r"--[a-z][a-z0-9-]*", text))))
        )
    return found
