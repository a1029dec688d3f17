"""`audit replay` folds the log once into every projection; the rows are those each
projection gets on its own, through copies, from every event: what the live runners
store. On both stores."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.domain import DomainEventProtocol

from domain.model.parking import PaymentMethod, VehicleClass
from domain.model.transfers import Transfer
from domain.ports import JSONValue, ProjectionView
from domain.services.memory_projections import InMemoryProjectionStore
from domain.services.projections import ProjectionRunner
from domain.services.rebuild import Rebuild
from ops.config import Config
from ops.projections import projections, replay
from ops.stores import open_store
from settlement.payouts.calendar import VIETNAM_TZ
from tests.support.cli import ROOT, citysettle
from tests.support.parking import HOUR, MIN, OPERATOR_PAYABLE, T0, app, arrival, end, open_lot, start
from tests.support.settlement import AGENCY_ACCOUNT, OPERATOR_ACCOUNT, collect, payee_directory, settle_day

DAY = T0.astimezone(VIETNAM_TZ).date()
AGENCY = "payable:agency:so-tu-phap"


async def a_day(store_url: str, tmp_path: Path) -> None:
    """Parking paid in cash, from a wallet hold and by a motorbike; fees paid by QR and one
    the budget pays in full; the day settled (a batch per payee)."""
    store = await open_store(Config(store_url=store_url))
    try:
        await open_lot(store)
        by_cash = await start(store, arrival("gate-1"))
        await end(store, by_cash, T0 + 2 * HOUR + MIN, PaymentMethod.CASH)
        by_wallet = await start(store, app("app-1", expected_end=T0 + HOUR))
        await end(store, by_wallet, T0 + 50 * MIN, PaymentMethod.WALLET)
        moto = await start(store, arrival("gate-2", vehicle_class=VehicleClass.MOTORBIKE, plate="29B1-234.56"))
        await end(store, moto, T0 + 3 * HOUR, PaymentMethod.QR)
        still_parked = await start(store, arrival("gate-3", plate="30A-999.99"), T0 + HOUR)
        assert still_parked
        await collect(store, "HS-1", "counter", T0 + HOUR)
        await collect(store, "HS-2", "vneid", T0 + 2 * HOUR)
    finally:
        await store.close()
    directory = payee_directory(tmp_path / "payees.json", {OPERATOR_PAYABLE: OPERATOR_ACCOUNT, AGENCY: AGENCY_ACCOUNT})
    await settle_day(store_url, directory, DAY)


async def each_on_its_own(store: Any) -> dict[str, dict[str, JSONValue]]:
    """The way replay used to rebuild: one projection at a time, every event, copies."""
    rows = {}
    for projection in projections():
        scratch = InMemoryProjectionStore()
        await ProjectionRunner(store, scratch, projection, page_size=7).catch_up()
        rows[projection.name] = await scratch.all_rows(projection.name)
    return rows


async def each_event_through_apply(store: Any) -> dict[str, dict[str, JSONValue]]:
    """The projections fed one event at a time through ``apply`` and a view of their own
    (what callers holding a `ProjectionView` do), rather than a page at a time."""
    rows: dict[str, dict[str, JSONValue]] = {}
    for projection in projections():
        # a page projection's own ``apply`` (FoldsPages); the others are one-event projections
        # already, those whose rows name log positions through ``apply_at``
        apply_at = getattr(projection, "apply_at", None)
        view = InMemoryProjectionStore()
        staged = _StagedView(view, projection.name)
        position = 0
        while records := await store.read_log(position, 50):
            for record in records:
                if apply_at is not None:
                    await apply_at(store.decode(record), staged, record.position)
                else:
                    one_event: Any = projection
                    await one_event.apply(store.decode(record), staged)
            position = records[-1].position
        await view.commit_projection(projection.name, 0, position, staged.changes)
        rows[projection.name] = await view.all_rows(projection.name)
    return rows


class _StagedView:
    def __init__(self, rows: InMemoryProjectionStore, name: str) -> None:
        self._rows, self._name = rows, name
        self.changes: dict[str, JSONValue | None] = {}

    async def get(self, key: str) -> JSONValue | None:
        return self.changes[key] if key in self.changes else (await self._rows.get_rows(self._name, [key])).get(key)

    def put(self, key: str, value: JSONValue) -> None:
        self.changes[key] = value

    def delete(self, key: str) -> None:
        self.changes[key] = None


async def test_one_pass_gives_each_projection_the_rows_it_gets_on_its_own_and_live(
    store_url: str, tmp_path: Path
) -> None:
    await a_day(store_url, tmp_path)
    store = await open_store(Config(store_url=store_url))
    try:
        head = (await store.head()).position
        # Small pages: the live rows cross many pages through the database.
        for projection in projections():
            await ProjectionRunner(store, store, projection, page_size=7).catch_up()
        expected = await each_on_its_own(store)
        pages: list[int] = []
        rebuild = Rebuild(store, projections(), page_size=5, on_page=pages.append)
        await rebuild.fold_until(head)
        assert (rebuild.position, rebuild.events, sum(pages)) == (head, head, head)
        for projection in projections():
            assert rebuild.rows(projection.name) == expected[projection.name], projection.name
            assert await store.all_rows(projection.name) == expected[projection.name], projection.name
        assert expected["parking_occupancy"]
        assert expected["payable_postings.v2"]
        assert expected["cash_on_hand"]
        # every page fold, given its events one at a time through an async view (``apply``)
        assert await each_event_through_apply(store) == expected

        result = await replay(store, projections())
    finally:
        await store.close()
    assert all(o.identical and not o.behind for o in result.outcomes)
    assert result.events == head
    assert result.events_per_s > 0


async def test_a_rebuild_stopped_part_way_holds_the_rows_at_that_position(store: Any) -> None:
    for n in range(4):
        await collect(store, f"HS-P{n}", "counter", T0 + n * MIN)
    head = (await store.head()).position
    middle = head // 2
    part = InMemoryProjectionStore()
    await ProjectionRunner(store, part, projections()[0]).catch_up(until=middle)
    rebuild = Rebuild(store, projections(), page_size=3)
    await rebuild.fold_until(middle)
    assert rebuild.position == middle
    assert rebuild.rows(projections()[0].name) == await part.all_rows(projections()[0].name)
    await rebuild.fold_until(head)
    assert rebuild.position == head


class CountsTransfersButSaysItReadsNothing:
    """A projection whose ``handles`` misses what its ``apply`` reads."""

    name = "transfer_count"
    handles: tuple[type, ...] = ()

    async def apply(self, event: DomainEventProtocol[Any], view: ProjectionView) -> None:
        if isinstance(event, Transfer.Posted):
            view.put("count", int(await view.get("count") or 0) + 1)


async def test_a_handles_that_misses_an_event_class_shows_as_different(store: Any) -> None:
    await collect(store, "HS-H1", "counter", T0)
    counting = CountsTransfersButSaysItReadsNothing()
    await ProjectionRunner(store, store, counting).catch_up()  # the live runner gives it every event
    (outcome,) = (await replay(store, [counting])).outcomes
    assert outcome.differing_keys == ("count",)


async def test_audit_replay_prints_its_throughput(store_url: str) -> None:
    store = await open_store(Config(store_url=store_url))
    try:
        await collect(store, "HS-T1", "counter", T0 + timedelta(minutes=1))
        for projection in projections():
            await ProjectionRunner(store, store, projection).catch_up()
        head = (await store.head()).position
    finally:
        await store.close()
    done = citysettle("audit", "replay", "--store", store_url)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no progress bar when stderr is not a terminal
    throughput = json.loads(done.stdout)["throughput"]
    assert throughput["events"] == head
    assert throughput["events_per_s"] > 0
    assert throughput["fold_s"] <= throughput["total_s"]


def on_a_terminal(*args: str) -> str:
    """What ``citysettle ARGS`` writes to stderr when stderr is a terminal (100 columns)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    command = [sys.executable, "-m", "ops.cli", *args]
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=slave, cwd=ROOT) as process:
        os.close(slave)
        written = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the command exited and closed the terminal
                break
            if not chunk:
                break
            written += chunk
        assert process.wait() in (0, 3)
    os.close(master)
    return written.decode()


@pytest.mark.parametrize(
    ("command", "bar"),
    [(["audit", "replay"], "replay"), (["audit", "verify"], "verify"), (["export", "events"], "export")],
)
def test_long_commands_draw_a_progress_bar_on_a_terminal_only(store_url: str, command: list[str], bar: str) -> None:
    async def record() -> None:
        store = await open_store(Config(store_url=store_url))
        try:
            await collect(store, "HS-TTY", "counter", T0)
        finally:
            await store.close()

    asyncio.run(record())
    drawn = on_a_terminal(*command, "--store", store_url)
    assert f"\r{bar}:   0%|" in drawn  # a bar, over the whole log ...
    assert drawn.endswith("\r")  # ... and was cleared: the terminal is left as it was
    assert citysettle(*command, "--store", store_url).stderr == ""
