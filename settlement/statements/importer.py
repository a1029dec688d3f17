"""Reading a statement file of any supported format, and telling statements apart.

A statement's identity is derived from the SHA-256 of the file's bytes, the account and
the statement id: the same file imported twice yields the same identities, and
`distinct` keeps only the first of each, so a second import changes nothing. The hash is
computed on the bytes as the parser reads them, in the same single pass.

Inside one file, the account and statement id do not tell statements apart: banks reuse
MT940's ``:20:``/``:28C:``. A later statement with the same key is a repeat only when its
content (account, sequence, period, balances, entries) is the same; a repeat is left out
and listed in `StatementFile.repeated`, so that the report can say so. One with other
content is a statement of its own, with its ordinal among the same key in its identity
(the first keeps the identity it always had: resolutions are named after it).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import IO, cast
from uuid import NAMESPACE_URL, UUID, uuid5

from settlement.statements.camt import camt_namespace, read_camt
from settlement.statements.camt_parallel import MIN_PARALLEL_BYTES, file_of, read_camt_parallel, usable_processes
from settlement.statements.csv_layout import looks_like_csv, read_csv
from settlement.statements.errors import StatementError
from settlement.statements.model import Statement
from settlement.statements.mt940 import read_mt940
from settlement.statements.xml_guard import root_namespace

STATEMENT_NAMESPACE = uuid5(NAMESPACE_URL, "https://citysettle.example/bank-statement")
_HEAD_BYTES = 65_536
_MT940_START = re.compile(rb"(^|\n)(:20:|\{1:|\{4:)")


class StatementFormat(StrEnum):
    CAMT053 = "camt053"
    CAMT054 = "camt054"
    MT940 = "mt940"
    CSV = "csv"


@dataclass(frozen=True, slots=True)
class ImportedStatement:
    identity: UUID
    file_sha256: str
    statement: Statement


@dataclass(frozen=True, slots=True)
class RepeatedStatement:
    """A statement the file holds twice, with the same content: read once, and said so."""

    statement_id: str
    account: str
    position: int  # 1-based, in the file's order
    same_as: int  # the position of the statement it repeats


@dataclass(frozen=True, slots=True)
class StatementFile:
    file_sha256: str
    format: StatementFormat
    statements: tuple[ImportedStatement, ...]
    repeated: tuple[RepeatedStatement, ...] = ()


def statement_identity(file_sha256: str, account: str, statement_id: str) -> UUID:
    return uuid5(STATEMENT_NAMESPACE, f"{file_sha256}/{account}/{statement_id}")


class _HashingReader(io.RawIOBase):
    """Replays the sniffed head, then the stream; hashes every byte it hands out."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self._head = head
        self._stream = stream
        self.sha256 = hashlib.sha256(head)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._head:
            chunk, self._head = (
                (self._head, b"") if size < 0 or size >= len(self._head) else (self._head[:size], self._head[size:])
            )
            return chunk
        chunk = self._stream.read(size)
        self.sha256.update(chunk)
        return chunk

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        chunk = self.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def drain(self) -> str:
        while self.read(1 << 20):
            pass
        return self.sha256.hexdigest()


def detect_format(head: bytes) -> StatementFormat:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        found = camt_namespace(head)
        if found is None:
            namespace = root_namespace(head)
            named = f" (its root element's namespace is {namespace!r})" if namespace is not None else ""
            raise StatementError(f"XML file is not an ISO 20022 camt.053 or camt.054 document{named}")
        return StatementFormat.CAMT053 if found[0] == "camt.053" else StatementFormat.CAMT054
    if _MT940_START.search(head):
        return StatementFormat.MT940
    if looks_like_csv(head.decode("utf-8", errors="replace")):
        return StatementFormat.CSV
    raise StatementError("cannot tell the statement format: not camt.053/054 XML, MT940 or the documented CSV")


def read_statement_file(
    stream: IO[bytes], fmt: StatementFormat | None = None, *, processes: int | None = None
) -> StatementFile:
    """Parse every statement of a file; ``fmt`` None means detect it from the content.

    A big camt file on disk is parsed by this process and ``processes`` others (None: one
    per other core, 0: none) in chunks cut at entry boundaries
    (`settlement.statements.camt_parallel`); the result is the single pass's."""
    head = stream.read(_HEAD_BYTES)
    detected = detect_format(head)
    if fmt is not None and fmt is not detected:
        raise StatementError(f"the file is {detected.value}, not {fmt.value}")
    parallel = _parallel(stream, head, detected, usable_processes() if processes is None else processes)
    if parallel is not None:
        statements, digest = parallel
    else:
        reader = _HashingReader(head, stream)
        statements = list(_parse(detected, head, reader))
        digest = reader.drain()
    if not statements:
        raise StatementError(f"the file holds no statement ({_EMPTY[detected]}): there is nothing to reconcile")
    imported, repeated = _identify(digest, statements)
    return StatementFile(digest, detected, imported, repeated)


_EMPTY = {
    StatementFormat.CAMT053: "no Stmt in the camt.053 document",
    StatementFormat.CAMT054: "no Ntfctn in the camt.054 document",
    StatementFormat.MT940: "no MT940 message with a :20: field",
    StatementFormat.CSV: "no row under the CSV header",
}


def _same_content(one: Statement, other: Statement) -> bool:
    return (one.account, one.sequence, one.period_from, one.period_to, one.balances, one.entries) == (
        other.account,
        other.sequence,
        other.period_from,
        other.period_to,
        other.balances,
        other.entries,
    )


def _identify(
    digest: str, statements: Iterable[Statement]
) -> tuple[tuple[ImportedStatement, ...], tuple[RepeatedStatement, ...]]:
    """Identities for the file's statements; a repeat of an earlier one is set aside."""
    kept: list[ImportedStatement] = []
    repeated: list[RepeatedStatement] = []
    same_key: dict[UUID, list[tuple[int, Statement]]] = {}
    for position, statement in enumerate(statements, start=1):
        identity = statement_identity(digest, statement.account, statement.statement_id)
        earlier = same_key.setdefault(identity, [])
        first = next((p for p, s in earlier if _same_content(s, statement)), None)
        if first is not None:
            repeated.append(RepeatedStatement(statement.statement_id, statement.account, position, first))
            continue
        if earlier:
            ordinal = f"{statement.statement_id}#{len(earlier) + 1}"
            identity = statement_identity(digest, statement.account, ordinal)
        earlier.append((position, statement))
        kept.append(ImportedStatement(identity, digest, statement))
    return tuple(kept), tuple(repeated)


def _parallel(
    stream: IO[bytes], head: bytes, fmt: StatementFormat, processes: int
) -> tuple[list[Statement], str] | None:
    """The statements and digest of a big camt file read in parallel, or None (single pass)."""
    if processes <= 0 or fmt not in (StatementFormat.CAMT053, StatementFormat.CAMT054):
        return None
    found = file_of(stream)
    if found is None:
        return None
    fd, path = found
    try:
        if os.fstat(fd).st_size < MIN_PARALLEL_BYTES or stream.tell() != len(head):
            return None  # small, or not read from its start: one pass
    except (OSError, ValueError):
        return None
    namespace = camt_namespace(head)
    assert namespace is not None, "detect_format saw the namespace"
    return read_camt_parallel(fd, path, head, *namespace, processes=processes)


def _parse(fmt: StatementFormat, head: bytes, reader: _HashingReader) -> Iterator[Statement]:
    if fmt in (StatementFormat.CAMT053, StatementFormat.CAMT054):
        found = camt_namespace(head)
        assert found is not None, "detect_format saw the namespace"
        yield from read_camt(cast(IO[bytes], reader), *found)
        return
    buffered = io.BufferedReader(reader, buffer_size=1 << 20)
    if fmt is StatementFormat.MT940:
        # SWIFT's character set is ASCII; banks' exports add Latin-1 or UTF-8 umlauts in
        # free text. References are ASCII, so an odd byte is replaced, never fatal.
        yield from read_mt940(io.TextIOWrapper(buffered, encoding="utf-8", errors="replace", newline=None))
        return
    try:
        yield from read_csv(io.TextIOWrapper(buffered, encoding="utf-8-sig", newline=""))
    except UnicodeDecodeError as exc:
        raise StatementError(f"CSV statement is not UTF-8: {exc}") from None


def distinct(files: Iterable[StatementFile]) -> tuple[ImportedStatement, ...]:
    """Every statement once, in the order first seen: importing a file again adds nothing."""
    seen: dict[UUID, ImportedStatement] = {}
    for statement_file in files:
        for imported in statement_file.statements:
            seen.setdefault(imported.identity, imported)
    return tuple(seen.values())
