"""How the README smoke test reads README.md's blocks (`tests/support/readme.py`)."""

from __future__ import annotations

from tests.support.readme import blocks, problems, synopses

TEXT = """# x

```console
$ citysettle call GET /v1/x \\
      --key k --key-id i
HTTP 200 OK
...
"a": 1
$ citysettle audit replay   # exit 3
```

<!-- not run: serves until stopped -->
```sh
make run
```

<!-- synopsis -->
```text
citysettle clients list|rotate [--store URL]   # a comment --not-an-option
citysettle audit verify --from-export FILE
                        --checkpoints FILE
```

```toml
port = 8080
```
"""


def test_console_commands_continuations_statuses_and_outputs() -> None:
    console = blocks(TEXT)[0]
    first, second = console.commands
    assert first.text == "citysettle call GET /v1/x \\\n--key k --key-id i"
    assert (first.line, first.status, first.output) == (4, 0, ("HTTP 200 OK", '"a": 1'))
    assert (second.text, second.status) == ("citysettle audit replay", 3)


def test_a_block_of_commands_is_run_or_says_why_not() -> None:
    assert problems(blocks(TEXT)) == []
    unmarked = TEXT.replace("<!-- not run: serves until stopped -->\n", "")
    assert len(problems(blocks(unmarked))) == 1
    assert "needs a reason" in problems(blocks(TEXT.replace("serves until stopped", "")))[0]


def test_synopsis_entries_name_their_commands_and_options() -> None:
    listing, verify = synopses(blocks(TEXT)[2])
    assert listing.commands == (("clients", "list"), ("clients", "rotate"))
    assert listing.options == ("--store",)
    assert verify.commands == (("audit", "verify"),)
    assert verify.options == ("--from-export", "--checkpoints")
