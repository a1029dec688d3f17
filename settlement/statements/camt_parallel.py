"""A big camt statement parsed on every core: cut at entry boundaries, parts in processes.

The file is cut into chunks right after an entry's end tag (``</Ntry>``). Each chunk is
parsed by the ordinary streaming parser (`read_camt`, so every check it makes is made)
as a document of its own: the file's head (everything before the first entry: the XML
declaration, the root with its namespaces, the group header, the statement's header and
balances), the chunk's bytes, and the end tags of the elements still open at the head's
end. The calling process parses chunks too, from the back, while a pool of processes
takes them from the front, so the parts balance themselves whatever else runs.

A cut is never trusted, it is proved: the result is used only when

- every chunk parsed without error (a cut inside a comment, a CDATA section or a
  processing instruction leaves that chunk unterminated; a cut whose open elements are
  not the head's makes the appended end tags mismatch: both are errors);
- every chunk yields exactly one statement, and these are equal once their entries are
  set aside (a second statement, or an ``Acct``/``Bal`` among the entries, shows up as a
  difference);
- the head itself holds no entry, and the file did not change while it was read: the
  chunks' CRC-32s match the ones computed over the bytes whose SHA-256 is the file's
  identity, and its size, inode and times are those it had when the parse began.

Otherwise, and on any error at all, the file is parsed again in one pass by the caller,
so an error names the same line and entry as it always did, and what comes out is
always what the single-pass parser gives (property-tested over cut points). Chunks
travel back as msgpack arrays of the statement records (msgspec Structs).
"""

from __future__ import annotations

import hashlib
import io
import itertools
import multiprocessing
import os
import re
import threading
import zlib
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import IO, Any, cast

import msgspec
from lxml import etree

from settlement.statements.camt import read_camt
from settlement.statements.model import Statement

MIN_PARALLEL_BYTES = 32 << 20  # below this, starting processes costs more than it saves
CHUNK_BYTES = 16 << 20  # about 24,000 entries: small enough to balance, big enough to amortise
_WINDOW = 1 << 20  # bytes read around a planned cut to find an entry's end tag
_WINDOWS = 8  # windows tried before a planned cut is dropped
_BLOCK = 1 << 20
_CONTAINER = {"camt.053": "Stmt", "camt.054": "Ntfctn"}
_ENTRY_START = re.compile(rb"<((?:[A-Za-z_][\w.\-]*:)?)Ntry[\s/>]")
_DECODER = msgspec.msgpack.Decoder(tuple[int, list[Statement]])
_ENCODER = msgspec.msgpack.Encoder()


@dataclass(frozen=True, slots=True)
class FileIdentity:
    """What must not change while the file is read."""

    device: int
    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of(cls, fd: int) -> FileIdentity:
        st = os.fstat(fd)
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


@dataclass(frozen=True, slots=True)
class Chunk:
    """One part to parse: the head, ``[start, end)`` of the file, then ``close``."""

    path: str
    identity: FileIdentity
    head: bytes
    start: int
    end: int
    close: bytes
    kind: str
    version: str
    namespace: str


@dataclass(frozen=True, slots=True)
class Plan:
    head: bytes  # the file's bytes before its first entry
    close: bytes  # end tags of the elements open at the head's end
    container: bytes  # the statement element's start tag, as the file writes it
    cuts: tuple[int, ...]  # chunk boundaries: 0, ..., size


class _Segments(io.RawIOBase):
    """Bytes and file ranges read in order, as one stream; CRC-32 of the file ranges."""

    def __init__(self, fd: int, parts: Sequence[bytes | tuple[int, int]]) -> None:
        self._fd = fd
        self._parts = deque(parts)
        self.crc = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = _BLOCK if size is None or size < 0 else size
        while self._parts:
            part = self._parts[0]
            if isinstance(part, bytes):
                if len(part) > size:
                    self._parts[0] = part[size:]
                    return part[:size]
                self._parts.popleft()
                if part:
                    return part
                continue
            start, end = part
            if start >= end:
                self._parts.popleft()
                continue
            data = os.pread(self._fd, min(size, end - start), start)
            if not data:
                raise OSError("the statement file ended early: it changed while it was read")
            self._parts[0] = (start + len(data), end)
            self.crc = zlib.crc32(data, self.crc)
            return data
        return b""


def plan(
    fd: int, size: int, head: bytes, kind: str, *, processes: int = 1, chunk_bytes: int | None = None
) -> Plan | None:
    """Where to cut, or None when this file is not cut (the single pass reads it)."""
    found = _head(head, kind)
    if found is None:
        return None
    head, stack, prefix = found
    end_tag = re.compile(rb"</" + re.escape(prefix) + rb"Ntry\s*>")
    cuts = [0]
    count = max((size - len(head)) // (chunk_bytes or CHUNK_BYTES), processes + 1)
    for k in range(1, count):
        planned = max(len(head) + k * (size - len(head)) // count, cuts[-1] + 1)
        cut = _next_end_tag(fd, planned, size, end_tag)
        if cut is not None and cuts[-1] < cut < size:
            cuts.append(cut)
    cuts.append(size)
    return _plan(head, stack, cuts)


def cut_at(head: bytes, kind: str, cuts: Sequence[int], size: int) -> Plan | None:
    """A plan with the given cut points, as they are (tests try arbitrary ones)."""
    found = _head(head, kind)
    if found is None:
        return None
    head, stack, _ = found
    return _plan(head, stack, [0, *sorted({c for c in cuts if 0 < c < size}), size])


def _head(head: bytes, kind: str) -> tuple[bytes, list[str], bytes] | None:
    """The bytes before the first entry, the elements open there (the statement last) and
    the entries' namespace prefix; None when the head does not look so."""
    first = _ENTRY_START.search(head)
    if first is None:
        return None
    head = head[: first.start()]
    stack = _open_elements(head)
    if not stack or stack[-1].rpartition(":")[2] != _CONTAINER[kind]:
        return None
    return head, stack, first.group(1)


def _plan(head: bytes, stack: list[str], cuts: Sequence[int]) -> Plan:
    close = "".join(f"</{name}>" for name in reversed(stack)).encode()
    return Plan(head, close, f"<{stack[-1]}".encode(), tuple(cuts))


def _open_elements(head: bytes) -> list[str] | None:
    """Qualified names of the elements open at the head's end; None if an entry ended in it
    or the head is not well-formed so far (the single pass will say why)."""
    parser = etree.XMLPullParser(events=("start", "end"), resolve_entities=False, no_network=True, load_dtd=False)
    stack: list[str] = []
    try:
        parser.feed(head)
        for event, element in parser.read_events():
            if event == "start":
                stack.append(
                    f"{element.prefix}:{etree.QName(element).localname}"
                    if element.prefix
                    else etree.QName(element).localname
                )
            else:
                stack.pop()
                if etree.QName(element).localname == "Ntry":
                    return None
    except etree.XMLSyntaxError:
        return None
    return stack


def _next_end_tag(fd: int, planned: int, size: int, end_tag: re.Pattern[bytes]) -> int | None:
    for n in range(_WINDOWS):
        at = planned + n * _WINDOW
        if at >= size:
            return None
        window = os.pread(fd, _WINDOW + 64, at)  # the overlap keeps a tag across windows whole
        found = end_tag.search(window)
        if found is not None:
            return at + found.end()
    return None


def parse_chunk(chunk: Chunk) -> bytes:
    """A worker's task: the chunk's statements and the CRC-32 of its file bytes, as msgpack."""
    fd = os.open(chunk.path, os.O_RDONLY)
    try:
        if FileIdentity.of(fd) != chunk.identity:
            raise OSError("the statement file changed while it was read")
        crc, statements = _parse(fd, chunk)
    finally:
        os.close(fd)
    return _ENCODER.encode((crc, statements))


def _parse(fd: int, chunk: Chunk) -> tuple[int, list[Statement]]:
    stream = _Segments(fd, [chunk.head, (chunk.start, chunk.end), chunk.close])
    statements = list(read_camt(cast(IO[bytes], stream), chunk.kind, chunk.version, chunk.namespace))
    return stream.crc, statements


def _chunks(path: str, identity: FileIdentity, found: Plan, kind: str, version: str, namespace: str) -> list[Chunk]:
    chunks = []
    last = len(found.cuts) - 2
    for n, (start, end) in enumerate(itertools.pairwise(found.cuts)):
        chunks.append(
            Chunk(
                path,
                identity,
                b"" if n == 0 else found.head,
                start,
                end,
                b"" if n == last else found.close,
                kind,
                version,
                namespace,
            )
        )
    return chunks


class _Abandon(Exception):
    """The parallel parse is given up; the single pass will read the file."""


class _Scan:
    """SHA-256 of the whole file, CRC-32 of each chunk, and how often the statement's start
    tag occurs (more than once: several statements, the single pass reads them)."""

    def __init__(self, fd: int, size: int, cuts: Sequence[int], container: bytes) -> None:
        self.sha256 = hashlib.sha256()
        self.crcs: list[int] = []
        tag = re.compile(re.escape(container) + rb"[\s/>]")
        carry = b""
        containers = 0
        for start, end in itertools.pairwise(cuts):
            crc = 0
            at = start
            while at < end:
                data = os.pread(fd, min(_BLOCK * 4, end - at), at)
                if not data:
                    raise _Abandon
                at += len(data)
                self.sha256.update(data)
                crc = zlib.crc32(data, crc)
                containers += len(tag.findall(carry + data)) - len(tag.findall(carry))
                carry = data[-len(container) - 1 :]
            self.crcs.append(crc)
        self.single_statement = containers == 1
        if at != size:
            raise _Abandon


def read_camt_parallel(
    fd: int,
    path: str,
    head: bytes,
    kind: str,
    version: str,
    namespace: str,
    *,
    processes: int,
    found: Plan | None = None,
) -> tuple[list[Statement], str] | None:
    """The statements and the file's SHA-256, or None when the single pass must read it.

    ``processes`` worker processes parse chunks besides this one; 0 parses every chunk
    here, through the same code (the tests' way to try many cut points quickly)."""
    identity = FileIdentity.of(fd)
    if found is None:
        found = plan(fd, identity.size, head, kind, processes=processes)
    if found is None or len(found.cuts) < 3:
        return None
    chunks = _chunks(path, identity, found, kind, version, namespace)
    try:
        results = _run(fd, chunks, processes, found, identity)
    except _Abandon:
        return None
    scan, parsed = results
    return _combined(parsed, scan, identity, fd)


def _run(
    fd: int, chunks: list[Chunk], processes: int, found: Plan, identity: FileIdentity
) -> tuple[_Scan, list[tuple[int, list[Statement]]]]:
    parsed: list[tuple[int, list[Statement]] | None] = [None] * len(chunks)
    if processes <= 0:
        scan = _Scan(fd, identity.size, found.cuts, found.container)
        if not scan.single_statement:
            raise _Abandon
        for n, chunk in enumerate(chunks):
            parsed[n] = _parse_here(fd, chunk)
        return scan, cast(list[tuple[int, list[Statement]]], parsed)
    pending = deque(range(len(chunks)))
    lock = threading.Lock()
    failed = threading.Event()
    encoded: dict[int, bytes] = {}
    context = multiprocessing.get_context("spawn")  # never fork: the caller may run threads
    executor = ProcessPoolExecutor(processes, mp_context=context)

    def feed() -> None:
        """Keep one worker busy: its next chunk is taken from the front as it finishes one,
        so that this process can take from the back as many as it gets to."""
        while not failed.is_set():
            with lock:
                if not pending:
                    return
                n = pending.popleft()
            try:
                result = executor.submit(parse_chunk, chunks[n]).result()
            except Exception:  # the chunk's error, or a worker that died: the single pass decides
                failed.set()
                return
            with lock:
                encoded[n] = result

    feeders = [threading.Thread(target=feed, name=f"camt-chunks-{k}", daemon=True) for k in range(processes)]
    for feeder in feeders:
        feeder.start()
    try:
        scan = _Scan(fd, identity.size, found.cuts, found.container)
        if not scan.single_statement:
            raise _Abandon
        while not failed.is_set():
            with lock:
                taken = pending.pop() if pending else None
                ready = list(encoded.items())
                encoded.clear()
            for m, result in ready:  # decoded between two chunks of this process's own
                parsed[m] = _decode(result)
            if taken is None:
                break
            parsed[taken] = _parse_here(fd, chunks[taken])
        for feeder in feeders:
            feeder.join()
        if failed.is_set():
            raise _Abandon
        for m, result in encoded.items():
            parsed[m] = _decode(result)
    except BaseException:
        failed.set()
        with lock:
            pending.clear()
        raise
    finally:
        # Given up: a chunk already running in a worker is left to finish (one a worker at
        # most), nothing more is started; the feeders end with it.
        executor.shutdown(wait=not failed.is_set(), cancel_futures=True)
    if any(p is None for p in parsed):
        raise _Abandon
    return scan, cast(list[tuple[int, list[Statement]]], parsed)


def _parse_here(fd: int, chunk: Chunk) -> tuple[int, list[Statement]]:
    try:
        return _parse(fd, chunk)
    except Exception:
        raise _Abandon from None


def _decode(result: bytes) -> tuple[int, list[Statement]]:
    # The records are kept out of the cycle collector (gc=False): decoding is ~1 µs an entry.
    return _DECODER.decode(result)


def _combined(
    parsed: list[tuple[int, list[Statement]]], scan: _Scan, identity: FileIdentity, fd: int
) -> tuple[list[Statement], str] | None:
    if [crc for crc, _ in parsed] != scan.crcs or FileIdentity.of(fd) != identity:
        return None
    if any(len(statements) != 1 for _, statements in parsed):
        return None
    parts = [statements[0] for _, statements in parsed]
    first = msgspec.structs.replace(parts[0], entries=())
    if any(msgspec.structs.replace(p, entries=()) != first for p in parts[1:]):
        return None
    entries = tuple(e for p in parts for e in p.entries)
    return [msgspec.structs.replace(first, entries=entries)], scan.sha256.hexdigest()


def usable_processes() -> int:
    """Worker processes besides this one: one per other core this process may run on."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(cores - 1, 0)


def file_of(stream: Any) -> tuple[int, str] | None:
    """The descriptor and path of a regular file ``stream`` reads, if it reads one."""
    try:
        fd = stream.fileno()
        name = stream.name
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None
    if not isinstance(name, str):
        return None
    try:
        if not os.path.samestat(os.fstat(fd), os.stat(name)):
            return None
    except OSError:
        return None
    return fd, name
