"""A camt statement parsed in chunks, in worker processes, equals the single pass exactly.

The cut points are chosen by hypothesis over every byte of the file, not only entry
boundaries: a cut that is not at an entry's end must be found out (the parallel parse
gives up) and the single pass's result comes out all the same."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from settlement.statements import StatementError, importer, read_statement_file
from settlement.statements import camt_parallel as parallel
from settlement.statements.camt import camt_namespace
from settlement.statements.model import Statement
from tests.support.fixtures import BANK_FIXTURES
from tests.support.statements import MIX, scenario, write_camt053


def _camt(path: Path, cases: int = 60, seed: int = 7) -> Path:
    lines = [line for case in scenario(cases, seed=seed, mix=MIX) for line in case.lines]
    with path.open("w", encoding="utf-8") as out:
        write_camt053(out, lines, opening_vnd=1_000_000, statement_id="P1")
    return path


def _single(path: Path) -> list[Statement]:
    with path.open("rb") as stream:
        return [s.statement for s in read_statement_file(stream, processes=0).statements]


def _in_chunks(path: Path, cuts: list[int], processes: int = 0) -> tuple[list[Statement], str] | None:
    fd = os.open(path, os.O_RDONLY)
    try:
        head = os.pread(fd, 65_536, 0)
        found = camt_namespace(head)
        assert found is not None
        plan = parallel.cut_at(head, found[0], cuts, os.fstat(fd).st_size)
        assert plan is not None
        return parallel.read_camt_parallel(fd, str(path), head, *found, processes=processes, found=plan)
    finally:
        os.close(fd)


def _entry_ends(data: bytes) -> list[int]:
    ends, at = [], data.find(b"</Ntry>")
    while at >= 0:
        ends.append(at + len(b"</Ntry>"))
        at = data.find(b"</Ntry>", at + 1)
    return ends


@pytest.fixture(scope="module")
def statement_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _camt(tmp_path_factory.mktemp("camt") / "statement.xml")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_cut_at_entry_ends_gives_the_single_pass(statement_file: Path, data: st.DataObject) -> None:
    content = statement_file.read_bytes()
    ends = _entry_ends(content)[:-1]  # after the last entry the statement's tail follows
    cuts = data.draw(st.lists(st.sampled_from(ends), min_size=1, max_size=8, unique=True))
    got = _in_chunks(statement_file, cuts)
    assert got is not None, "cuts at entry ends are proved and used"
    statements, digest = got
    assert statements == _single(statement_file)
    with statement_file.open("rb") as stream:
        assert digest == read_statement_file(stream, processes=0).file_sha256


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_cut_gives_the_single_pass_or_gives_up(statement_file: Path, data: st.DataObject) -> None:
    size = statement_file.stat().st_size
    cuts = data.draw(st.lists(st.integers(1, size - 1), min_size=1, max_size=6, unique=True))
    got = _in_chunks(statement_file, cuts)
    if got is not None:
        assert got[0] == _single(statement_file)


@pytest.mark.parametrize(
    "name",
    [
        "camt053_v2_batch__viafintech.xml",
        "camt053_v4_batch_reversal_charges__viafintech.xml",
        "camt053_v8_uetr_fx__viafintech.xml",
        "camt054_v4_batch_reversal_charges__viafintech.xml",
        "camt054_v8_uetr_minimal__genkgo.xml",
        "camt053_v2_minimal__genkgo.xml",
    ],
)
def test_real_samples_at_every_entry_end(name: str) -> None:
    """Banks' own files (other versions, prefixes, batches, camt.054): each cut alone."""
    path = BANK_FIXTURES / name
    content = path.read_bytes()
    single = _single(path)
    for end in _entry_ends(content)[:-1] or [len(content) // 2]:
        got = _in_chunks(path, [end])
        if got is not None:
            assert got[0] == single, f"cut at {end}"


def test_worker_processes_give_the_single_pass(statement_file: Path) -> None:
    ends = _entry_ends(statement_file.read_bytes())
    got = _in_chunks(statement_file, ends[5:-1:7], processes=2)
    assert got is not None
    assert got[0] == _single(statement_file)


@pytest.fixture
def small_is_big(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files of a few kB take the parallel path, in chunks of about 2 kB, with one worker."""
    monkeypatch.setattr(importer, "MIN_PARALLEL_BYTES", 1)
    monkeypatch.setattr(parallel, "CHUNK_BYTES", 2_048)


def _read(path: Path, processes: int) -> object:
    with path.open("rb") as stream:
        return read_statement_file(stream, processes=processes)


@pytest.mark.usefixtures("small_is_big")
def test_read_statement_file_uses_workers_and_gives_the_same_file(
    statement_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    used: list[bool] = []
    original = parallel.read_camt_parallel

    def spy(*args: object, **kwargs: object) -> object:
        result = original(*args, **kwargs)  # type: ignore[arg-type]
        used.append(result is not None)
        return result

    monkeypatch.setattr(importer, "read_camt_parallel", spy)
    assert _read(statement_file, 1) == _read(statement_file, 0)
    assert used == [True]


def _broken(tmp_path: Path, old: bytes, new: bytes, occurrence: int) -> Path:
    content = _camt(tmp_path / "good.xml").read_bytes()
    at = -1
    for _ in range(occurrence):
        at = content.index(old, at + 1)
    path = tmp_path / "broken.xml"
    path.write_bytes(content[:at] + new + content[at + len(old) :])
    return path


def _error(path: Path, processes: int) -> str:
    with pytest.raises(StatementError) as raised:
        _read(path, processes)
    return str(raised.value)


@pytest.mark.usefixtures("small_is_big")
@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        (
            b'<Amt Ccy="VND">',
            b'<Amt Ccy="VND">12,',
            "entry 40:",
        ),  # two balances come first; a guessed decimal mark is refused
        (b"<CdtDbtInd>CRDT</CdtDbtInd>", b"<CdtDbtInd>CRDT</CdtDbtInd", "line"),  # not well-formed
        (b"<CdtDbtInd>CRDT</CdtDbtInd>", b"<CdtDbtInd>XXXX</CdtDbtInd>", "entry"),
    ],
)
def test_errors_name_the_same_line_and_entry(tmp_path: Path, old: bytes, new: bytes, says: str) -> None:
    path = _broken(tmp_path, old, new, 41 * 2 if old.startswith(b"<Amt") else 41)
    message = _error(path, 1)
    assert message == _error(path, 0)
    assert says in message


@pytest.mark.usefixtures("small_is_big")
def test_a_dtd_is_refused_as_before(tmp_path: Path) -> None:
    content = _camt(tmp_path / "good.xml").read_bytes()
    declared = content.replace(b"<Document", b'<!DOCTYPE Document [<!ENTITY x "y">]>\n<Document', 1)
    path = tmp_path / "dtd.xml"
    path.write_bytes(declared)
    assert "declares a DTD" in _error(path, 1)


@pytest.mark.usefixtures("small_is_big")
@pytest.mark.parametrize(
    "insert",
    [
        b"<!-- </Ntry> -->",  # an entry's end tag in a comment
        b"<AddtlNtryInf><![CDATA[</Ntry></Ntry>]]></AddtlNtryInf>",  # and in CDATA
    ],
)
def test_end_tags_in_comments_and_cdata_do_not_mislead(tmp_path: Path, insert: bytes) -> None:
    content = _camt(tmp_path / "good.xml").read_bytes()
    ends = _entry_ends(content)
    for end in ends[3:-1:4]:
        # just inside the entry that follows: a planned cut there finds the fake end first
        at = content.index(b"<CdtDbtInd>", end)
        path = tmp_path / "tricky.xml"
        path.write_bytes(content[:at] + insert + content[at:])
        assert _read(path, 1) == _read(path, 0)
        fake = at + insert.index(b"</Ntry>") + len(b"</Ntry>")
        assert _in_chunks(path, [fake]) is None, "a cut inside a comment or CDATA is found out"


@pytest.mark.usefixtures("small_is_big")
def test_two_statements_in_one_file_are_read_by_the_single_pass(tmp_path: Path) -> None:
    one = _camt(tmp_path / "one.xml").read_bytes()
    start, end = one.index(b"<Stmt>"), one.index(b"</Stmt>") + len(b"</Stmt>")
    second = one[start:end].replace(b"<Id>P1</Id>", b"<Id>P2</Id>", 1)
    path = tmp_path / "two.xml"
    path.write_bytes(one[:end] + b"\n" + second + one[end:])
    both = _read(path, 1)
    assert both == _read(path, 0)
    assert len(both.statements) == 2  # type: ignore[attr-defined]
    ends = _entry_ends(path.read_bytes())
    assert _in_chunks(path, ends[10:-1:10]) is None


@pytest.mark.usefixtures("small_is_big")
def test_a_stream_that_is_not_a_file_is_read_in_one_pass(statement_file: Path) -> None:
    content = statement_file.read_bytes()
    assert read_statement_file(io.BytesIO(content), processes=1) == _read(statement_file, 0)


def test_a_chunk_of_a_changed_file_is_refused(statement_file: Path, tmp_path: Path) -> None:
    path = tmp_path / "changing.xml"
    path.write_bytes(statement_file.read_bytes())
    fd = os.open(path, os.O_RDONLY)
    try:
        identity = parallel.FileIdentity.of(fd)
    finally:
        os.close(fd)
    os.utime(path, ns=(identity.mtime_ns + 10**9, identity.mtime_ns + 10**9))
    chunk = parallel.Chunk(str(path), identity, b"", 0, identity.size, b"", "camt.053", "001.08", "")
    with pytest.raises(OSError, match="changed"):
        parallel.parse_chunk(chunk)
