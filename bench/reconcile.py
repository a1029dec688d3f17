"""Reconciliation benchmark (issue 5): a 1,000,000-entry camt.053 against 1,000,000 ledger items.

The statement and the ledger come from `tests.support.statements.scenario`: mostly
payments matched by the bank's transaction id, plus references (whole and truncated),
amount-and-date matches, batches (TxDtls, our batch totals, subset-sum), split payments
and about 1% of each exception category. Each measurement runs in its own process, so
that its peak memory (``ru_maxrss``) is its own:

- floor: a bare ``lxml.etree.iterparse`` pass with ``clear()`` over the same file (every
  element's end event, as the issue defines it), and the same with only ``Ntry`` events;
- ours: parse + match + write report.json/csv/html, end to end, timed per step; the
  ledger items are built first (not timed: in production they come from the store), and
  the categories are checked against what the generator put in;
- pandas: the same stages (ids, payment reference, amount within the date window, one
  item per line) written as pandas merges over the same parsed lines and items.

Results go to ``bench/results/reconcile.json``. Run:
``.venv/bin/python bench/reconcile.py [--entries 1000000] [--workdir DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

# bench/ is not a package: make the project importable when run as a script.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lxml import etree  # noqa: E402

from tests.support.statements import MIX, scenario, write_camt053  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "reconcile.json"
NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
SEED = 20261123
# Subset-sum cases need their day's pool to hold few open items; among 10,000
# missing-in-bank items a bounded search rightly gives up, so the bench leaves them out.
BENCH_MIX = {k: v for k, v in MIX.items() if k != "subset_sum"}


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _cases(count: int) -> Any:
    return scenario(count, seed=SEED, mix=BENCH_MIX)


def generate(path: Path, cases: int) -> dict[str, Any]:
    lines = []
    expected_lines: Counter[str] = Counter()
    expected_items: Counter[str] = Counter()
    for case in _cases(cases):
        lines.extend(case.lines)
        expected_lines.update(case.line_categories)
        expected_items.update(case.item_categories)
    with path.open("w", encoding="utf-8") as out:
        write_camt053(out, lines, opening_vnd=5_000_000_000, statement_id="BENCH")
    return {"entries": len(lines), "expected_lines": expected_lines, "expected_items": expected_items}


def floor_only(path: Path) -> dict[str, Any]:
    """The floor alone: one bare pass, every end event, in one process."""
    start = time.perf_counter()
    for _, element in etree.iterparse(str(path), events=("end",)):
        element.clear()
    return {"floor_iterparse_s": round(time.perf_counter() - start, 2)}


def floor(path: Path) -> dict[str, Any]:
    every = floor_only(path)["floor_iterparse_s"]
    start = time.perf_counter()
    for _, element in etree.iterparse(str(path), events=("end",), tag=f"{{{NS}}}Ntry"):
        element.clear(keep_tail=True)
        while element.getprevious() is not None:
            del element.getparent()[0]
    tagged = time.perf_counter() - start
    return {
        "floor_iterparse_s": every,
        "floor_iterparse_ntry_only_s": round(tagged, 2),
        "floor_peak_rss_mb": _peak_mb(),
    }


def ledger(cases: int) -> list[Any]:
    return [item for case in _cases(cases) for item in case.items]


class _TotalRss:
    """The largest sum of the resident memory of this process and its children (the parsing
    workers), sampled every 20 ms from /proc (Linux): what the run held at once."""

    def __init__(self) -> None:
        import threading

        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> _TotalRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        me = os.getpid()
        children: list[int] = []
        ticks = 0
        while not self._stop.wait(0.05):
            if ticks % 20 == 0:  # look for new children once a second: scanning /proc costs
                children = [p for p in _pids() if _field(p, "PPid") == me]
            ticks += 1
            total = sum(_field(p, "VmRSS") for p in (me, *children))
            self.peak_kb = max(self.peak_kb, total)


def _pids() -> list[int]:
    return [int(e.name) for e in os.scandir("/proc") if e.name.isdigit()]


def _field(pid: int, name: str) -> int:
    """An integer field of /proc/<pid>/status (VmRSS in kB); 0 when the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def ours(path: Path, cases: int, out: Path, processes: int | None = None) -> dict[str, Any]:
    from settlement.reconciliation.ledger_items import LedgerBalance
    from settlement.reconciliation.matching import reconcile
    from settlement.reconciliation.reports import write_reports
    from settlement.statements import read_statement_file
    from settlement.statements.camt_parallel import usable_processes

    start = time.perf_counter()
    items = ledger(cases)
    built = time.perf_counter() - start
    rss_items = _peak_mb()
    balances = {"0011004455667": LedgerBalance("0011004455667", "VND", 5_000_000_000, 0)}
    with _TotalRss() as sampled:
        start = time.perf_counter()
        with path.open("rb") as stream:
            statements = [s.statement for s in read_statement_file(stream, processes=processes).statements]
        parsed = time.perf_counter()
        result = reconcile(statements, items, ledger_balances=balances)
        matched = time.perf_counter()
        write_reports(result, out)
        done = time.perf_counter()
    totals = result.totals()
    return {
        "ledger_build_s": round(built, 2),
        "ledger_items_rss_mb": rss_items,
        "parse_s": round(parsed - start, 2),
        "match_s": round(matched - parsed, 2),
        "report_s": round(done - matched, 2),
        "end_to_end_s": round(done - start, 2),
        "peak_rss_mb": _peak_mb(),
        # the parsing processes' peaks, each its own (they run beside this one)
        "peak_rss_workers_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        "parse_processes": 1 + (usable_processes() if processes is None else processes),
        # this process and its workers together, sampled every 20 ms (the goal's figure)
        "peak_rss_sampled_total_mb": round(sampled.peak_kb / 1024, 1),
        "report_json_mb": round((out / "report.json").stat().st_size / 2**20, 1),
        "got_lines": {c.value: t.lines for c, t in totals.items()},
        "got_items": {c.value: t.items for c, t in totals.items()},
    }


def pandas_matching(path: Path, cases: int) -> dict[str, Any]:
    import pandas as pd  # type: ignore[import-untyped]  # bench-only dependency without type information

    from settlement.reconciliation.stages.ids import line_ids
    from settlement.statements import read_statement_file

    items = ledger(cases)
    with path.open("rb") as stream:
        entries = [e for s in read_statement_file(stream).statements for e in s.statement.entries]
    start = time.perf_counter()
    lines = pd.DataFrame(
        {
            "line": range(len(entries)),
            "signed": [e.signed_minor for e in entries],
            "day": pd.to_datetime([e.booking_date for e in entries]),
            "key": [next(iter(line_ids(e)), None) for e in entries],
            "e2e": [next((d.end_to_end_id for d in e.details if d.end_to_end_id), None) for e in entries],
            "text": [" ".join(d.remittance for d in e.details) for e in entries],
        }
    )
    ledger_frame = pd.DataFrame(
        {
            "item": range(len(items)),
            "signed": [i.signed_minor for i in items],
            "day": pd.to_datetime([i.booking_date for i in items]),
            "bank_tx_id": [i.bank_tx_id for i in items],
            "e2e": [i.end_to_end_id for i in items],
            "reference": [i.payment_reference for i in items],
        }
    )
    built = time.perf_counter()
    matched = _pandas_stages(pd, lines, ledger_frame)
    done = time.perf_counter()
    return {
        "pandas_build_s": round(built - start, 2),
        "pandas_match_s": round(done - built, 2),
        "pandas_matched_lines": int(matched),
        "pandas_peak_rss_mb": _peak_mb(),
    }


def _pandas_stages(pd: Any, lines: Any, items: Any) -> int:
    """Ids, then reference, then amount within two days; each line and item used once."""
    taken_lines: list[Any] = []
    taken_items: list[Any] = []

    def take(pairs: Any) -> None:
        pairs = pairs.drop_duplicates("line").drop_duplicates("item")
        taken_lines.append(pairs["line"])
        taken_items.append(pairs["item"])

    by_id = lines.dropna(subset=["key"]).merge(
        items.dropna(subset=["bank_tx_id"]), left_on="key", right_on="bank_tx_id", suffixes=("", "_l")
    )
    take(by_id[by_id["signed"] == by_id["signed_l"]])
    rest_lines = lines[~lines["line"].isin(pd.concat(taken_lines))]
    rest_items = items[~items["item"].isin(pd.concat(taken_items))]
    by_e2e = rest_lines.dropna(subset=["e2e"]).merge(rest_items.dropna(subset=["e2e"]), on="e2e", suffixes=("", "_l"))
    take(by_e2e[by_e2e["signed"] == by_e2e["signed_l"]])
    rest_lines = lines[~lines["line"].isin(pd.concat(taken_lines))].copy()
    rest_items = items[~items["item"].isin(pd.concat(taken_items))]
    rest_lines["reference"] = (
        rest_lines["text"]
        .str.upper()
        .str.replace(r"[\s.\-_/,:;]+", "", regex=True)
        .str.extract(r"(CS[0-9A-Z]{8})", expand=False)
    )
    by_ref = rest_lines.dropna(subset=["reference"]).merge(
        rest_items.dropna(subset=["reference"]), on="reference", suffixes=("", "_l")
    )
    take(by_ref[by_ref["signed"] == by_ref["signed_l"]])
    rest_lines = lines[~lines["line"].isin(pd.concat(taken_lines))]
    rest_items = items[~items["item"].isin(pd.concat(taken_items))]
    by_amount = rest_lines.merge(rest_items, on="signed", suffixes=("", "_l"))
    by_amount = by_amount[(by_amount["day"] - by_amount["day_l"]).abs() <= pd.Timedelta(days=2)]
    take(by_amount.sort_values(["line", "item"]))
    return int(sum(len(t) for t in taken_lines))


def history(workdir: Path, small: int, day_payments: int, pairs: int) -> dict[str, Any]:
    """(issue 14, item 1) One day reconciled on a store with a history of ``small`` events
    and on one with ten times as many; the same day, the same statement, interleaved."""
    import asyncio

    from bench.history import load

    statement = workdir / "history-day.xml"
    urls = {"small": f"sqlite:///{workdir}/history-small.db", "big": f"sqlite:///{workdir}/history-big.db"}
    figures: dict[str, Any] = {}
    for name, events in (("small", small), ("big", 10 * small)):
        start = time.perf_counter()
        loaded = asyncio.run(load(urls[name], events, day_payments, statement if name == "small" else None))
        figures[f"history_{name}_events"] = loaded["events"]
        figures[f"history_{name}_days"] = loaded["history_days"]
        figures[f"history_{name}_load_s"] = round(time.perf_counter() - start, 1)
        figures["history_day_lines"] = loaded["day_lines"]
    timings: dict[str, list[dict[str, float]]] = {"small": [], "big": []}
    outcomes = {}
    for _ in range(pairs):
        for name in ("small", "big"):
            timed, outcomes[name] = asyncio.run(_reconcile_day(urls[name], statement))
            timings[name].append(timed)
    ratios = sorted(b["total_s"] / s["total_s"] for s, b in zip(timings["small"], timings["big"], strict=True))
    for name in ("small", "big"):
        for step in ("parse_s", "ledger_side_s", "match_s", "total_s"):
            figures[f"history_{name}_reconcile_{step}"] = _median([t[step] for t in timings[name]])
        figures[f"history_{name}_reconcile_all_total_s"] = [t["total_s"] for t in timings[name]]
        start = time.perf_counter()
        old, new = asyncio.run(_both_sides(urls[name]))
        figures[f"history_{name}_old_path_ledger_side_s"] = round(old, 3)
        figures[f"history_{name}_new_path_ledger_side_s"] = round(new, 3)
    figures["ratio_reconcile_big_vs_small_history"] = round(_median(ratios), 3)
    figures["ratio_reconcile_big_vs_small_history_spread"] = [round(ratios[0], 3), round(ratios[-1], 3)]
    figures["ratio_old_path_ledger_side_big_vs_small"] = round(
        figures["history_big_old_path_ledger_side_s"] / figures["history_small_old_path_ledger_side_s"], 2
    )
    figures["history_same_outcome"] = outcomes["small"] == outcomes["big"]
    figures["history_old_path_equals_new"] = _SIDES_EQUAL.copy()
    return figures


_SIDES_EQUAL: list[bool] = []
_HISTORY_KEYS = ("history_", "ratio_reconcile_big_vs_small_history", "ratio_old_path_")


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return round(ordered[len(ordered) // 2], 3)


async def _reconcile_day(url: str, statement: Path) -> tuple[dict[str, float], dict[str, int]]:
    """What `citysettle reconcile` does for the day, short of recording the run."""
    from adapters.eventstore.sqlite import SqliteEventStore
    from settlement.reconciliation.outcomes import MatchOptions
    from settlement.reconciliation.statement_runs import match_statements, period_of, read_side
    from settlement.statements import read_statement_file

    store = await SqliteEventStore.open(url, create=False)
    try:
        start = time.perf_counter()
        with statement.open("rb") as stream:
            files = [read_statement_file(stream)]
        parsed = time.perf_counter()
        first, last = period_of(files, None)
        side = await read_side(store, files, first, last)
        read = time.perf_counter()
        run = match_statements(files, first, last, side, MatchOptions())
        done = time.perf_counter()
    finally:
        await store.close()
    totals = {c.value: t.lines + t.items for c, t in run.result.totals().items()}
    timed = {"parse_s": parsed - start, "ledger_side_s": read - parsed, "match_s": done - read, "total_s": done - start}
    return timed, totals


async def _both_sides(url: str) -> tuple[float, float]:
    """The ledger side of the day from the whole log (before) and from the projection."""
    from adapters.eventstore.sqlite import SqliteEventStore
    from settlement.reconciliation.bank_movements import read_day_side
    from settlement.reconciliation.ledger_side import read_ledger_side
    from tests.support.statements import ACCOUNT_NO, DAY

    store = await SqliteEventStore.open(url, create=False)
    try:
        start = time.perf_counter()
        old = await read_ledger_side(store, first_day=DAY, last_day=DAY, accounts=[ACCOUNT_NO])
        middle = time.perf_counter()
        new = await read_day_side(store, first_day=DAY, last_day=DAY, accounts=[ACCOUNT_NO])
        end = time.perf_counter()
    finally:
        await store.close()
    _SIDES_EQUAL.append((old.items, old.balances, old.last_position) == (new.items, new.balances, new.last_position))
    return middle - start, end - middle


def _run(step: str, *args: str) -> dict[str, Any]:
    load = os.getloadavg()[0]
    done = subprocess.run([sys.executable, __file__, step, *args], capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    result[f"{step}_load_1m_before"] = round(load, 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "step",
        nargs="?",
        default="all",
        choices=["all", "statement", "history", "generate", "floor", "floor-only", "ours", "ours-single", "pandas"],
        help="all: the statement (item 2) and the history (item 1) parts; or one part, or one step",
    )
    parser.add_argument("--entries", type=int, default=1_000_000, help="cases to generate (about one entry each)")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--pairs", type=int, default=3, help="interleaved floor / end-to-end pairs (median taken)")
    parser.add_argument("--no-pandas", action="store_true", help="leave out the pandas comparison")
    parser.add_argument("--history-events", type=int, default=500_000, help="the small history; the big one is 10x")
    parser.add_argument("--day-payments", type=int, default=10_000, help="payments on the reconciled day")
    parser.add_argument("--history-pairs", type=int, default=5, help="interleaved small / big reconciles")
    args = parser.parse_args()
    if args.step not in ("all", "statement", "history"):
        steps = {
            "generate": lambda: generate(args.workdir / "camt053.xml", args.entries),
            "floor": lambda: floor(args.workdir / "camt053.xml"),
            "floor-only": lambda: floor_only(args.workdir / "camt053.xml"),
            "ours": lambda: ours(args.workdir / "camt053.xml", args.entries, args.workdir / "out"),
            "ours-single": lambda: ours(args.workdir / "camt053.xml", args.entries, args.workdir / "out", 0),
            "pandas": lambda: pandas_matching(args.workdir / "camt053.xml", args.entries),
        }
        print(json.dumps(steps[args.step]()))
        return
    statement: dict[str, Any] | None = statement_part(args) if args.step in ("all", "statement") else None
    history_figures: dict[str, Any] | None = None
    if args.step in ("all", "history"):
        with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
            load_before = round(os.getloadavg()[0], 2)
            started = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
            history_figures = history(Path(tmp), args.history_events, args.day_payments, args.history_pairs)
            history_figures |= {"history_timestamp": started, "history_load_1m_before": load_before}
            history_figures["history_load_1m_after"] = round(os.getloadavg()[0], 2)
    # One part run alone keeps the other part's figures from the file, read as it is now.
    results = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    kept = {k: v for k, v in results.items() if k.startswith(_HISTORY_KEYS)}
    results = {**(statement if statement is not None else {k: v for k, v in results.items() if k not in kept}), **kept}
    results |= history_figures or {}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


def statement_part(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        common = ["--entries", str(args.entries), "--workdir", tmp]
        generated = _run("generate", *common)
        figures = {"file_mb": round((Path(tmp) / "camt053.xml").stat().st_size / 2**20, 1)}
        figures |= _pairs(args.pairs, common)
        single = _run("ours-single", *common)
        figures |= {f"single_process_{k}": single[k] for k in ("parse_s", "end_to_end_s", "peak_rss_mb")}
        if not args.no_pandas:
            figures |= _run("pandas", *common)
    return report(generated, figures)


def _pairs(pairs: int, common: list[str]) -> dict[str, Any]:
    """Floor and end to end, one after the other, ``pairs`` times: the machine's load moves
    both alike within a pair, so the ratio is taken per pair and the median reported."""
    floors, runs = [], []
    for n in range(pairs):
        floors.append(_run("floor" if n == 0 else "floor-only", *common))  # the first also tags Ntry only
        runs.append(_run("ours", *common))
    first = floors[0]
    floors[0] = {
        "floor_iterparse_s": first["floor_iterparse_s"],
        "floor-only_load_1m_before": first["floor_load_1m_before"],
    }
    ratios = sorted(r["end_to_end_s"] / f["floor_iterparse_s"] for f, r in zip(floors, runs, strict=True))
    middle = sorted(range(pairs), key=lambda i: runs[i]["end_to_end_s"] / floors[i]["floor_iterparse_s"])[pairs // 2]
    figures = {k: v for k, v in first.items() if k != "floor_iterparse_s"}
    figures |= runs[middle]  # the median pair's run, with its own floor
    figures["floor_iterparse_s"] = floors[middle]["floor_iterparse_s"]
    figures["pairs_floor_s"] = [f["floor_iterparse_s"] for f in floors]
    figures["pairs_end_to_end_s"] = [r["end_to_end_s"] for r in runs]
    figures["pairs_load_1m_before"] = [f["floor-only_load_1m_before"] for f in floors]
    figures["ratio_end_to_end_vs_floor_spread"] = [round(ratios[0], 2), round(ratios[-1], 2)]
    figures["peak_rss_total_mb"] = max(
        r["peak_rss_mb"] + r["peak_rss_workers_mb"] * (r["parse_processes"] - 1) for r in runs
    )
    return figures


def report(generated: dict[str, Any], f: dict[str, Any]) -> dict[str, Any]:
    expected_lines, got_lines = generated["expected_lines"], f.pop("got_lines")
    expected_items, got_items = generated["expected_items"], f.pop("got_items")
    results: dict[str, Any] = {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
        "machine_nproc": os.cpu_count(),
        "machine_cpu": _cpu(),
        "python": platform.python_version(),
        "lxml_version": ".".join(map(str, etree.LXML_VERSION)),
        "entries": generated["entries"],
        "ledger_items": sum(expected_items.values()),
        **f,
        "ratio_end_to_end_vs_floor": round(f["end_to_end_s"] / f["floor_iterparse_s"], 2),
        "ratio_parse_vs_floor": round(f["parse_s"] / f["floor_iterparse_s"], 2),
        "categories_as_generated": _nonzero(got_lines) == _nonzero(expected_lines)
        and _nonzero(got_items) == _nonzero(expected_items),
    }
    if "pandas_match_s" in f:
        results["ratio_match_ours_vs_pandas"] = round(f["match_s"] / f["pandas_match_s"], 2)
        results["ratio_match_ours_vs_pandas_with_frames"] = round(
            f["match_s"] / (f["pandas_match_s"] + f["pandas_build_s"]), 2
        )
    for category in sorted(set(expected_lines) | set(got_lines)):
        results[f"lines_{category}"] = got_lines.get(category, 0)
    for category in sorted(set(expected_items) | set(got_items)):
        results[f"items_{category}"] = got_items.get(category, 0)
    return results


def _nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if v}


def _cpu() -> str:
    try:
        return next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        return platform.processor()


if __name__ == "__main__":
    main()
