"""docs/METRICS.md lists exactly the metrics the service exports, with their labels; every
query of the Grafana dashboard and of the alert rules under docker/ uses only those
metrics and their labels, and the alert table of the doc is the rules file."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.parser import text_string_to_metric_families

from ops.metrics import Metrics

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "METRICS.md"
DASHBOARD = ROOT / "docker" / "grafana" / "dashboards" / "citysettle.json"
DATASOURCES = ROOT / "docker" / "grafana" / "provisioning" / "datasources" / "prometheus.yaml"
RULES = ROOT / "docker" / "prometheus" / "alerts.yml"

METRIC = re.compile(r"\bcitysettle_[a-z0-9_]+\b")
SUFFIXES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count")}


def cells(line: str) -> list[str]:
    """A Markdown table row's cells (``\\|`` is a pipe inside a cell)."""
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def ticked(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def documented() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Each metric of the doc's table: its type and its labels (those in parentheses are
    added by the multiprocess view, not by the metric)."""
    rows = [cells(line) for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith("| `citysettle_")]
    return {ticked(name)[0]: (kind, tuple(ticked(re.sub(r"\(.*?\)", "", labels)))) for name, kind, labels, _ in rows}


def exported(doc: dict[str, tuple[str, tuple[str, ...]]]) -> dict[str, tuple[str, tuple[str, ...]]]:
    """What ``/metrics`` exports, by the name a query uses: each labelled metric given a
    child with the doc's label names, which prometheus_client refuses unless they are
    exactly the metric's own."""
    metrics = Metrics.create()
    labels_of: dict[str, tuple[str, ...]] = {}
    for field in dataclasses.fields(metrics):
        collector = getattr(metrics, field.name)
        if not isinstance(collector, MetricWrapperBase):
            continue
        family = next(iter(collector.describe()))
        name = family.name + ("_total" if family.type == "counter" else "")
        labels = doc.get(name, ("", ()))[1]
        if labels:
            collector.labels(**dict.fromkeys(labels, "x"))
        labels_of[name] = labels
    found = {}
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        name = family.name + ("_total" if family.type == "counter" else "")
        found[name] = (family.type, labels_of.get(name, ()))
    return found


def test_the_doc_lists_exactly_the_exported_metrics_and_their_labels() -> None:
    doc = documented()
    assert doc
    assert exported(doc) == doc


def series() -> dict[str, set[str]]:
    """Every series name a query may use, with the labels it has (``le`` on buckets)."""
    names: dict[str, set[str]] = {}
    for name, (kind, labels) in documented().items():
        base = name.removesuffix("_total")
        for suffix in SUFFIXES[kind]:
            names[base + suffix] = set(labels) | ({"le"} if suffix == "_bucket" else set())
    names["citysettle_projection_leader"] |= {"pid"}  # the multiprocess view's label
    return names


def problems_of(expr: str, legend: str = "") -> list[str]:
    """What in a PromQL expression names a series or a label the service does not export."""
    known = series()
    used = METRIC.findall(expr)
    problems = [f"unknown metric {name}" for name in used if name not in known]
    labels = set().union(*(known.get(name, set()) for name in used)) if used else set()
    grouped = {
        g.strip()
        for clause in re.findall(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)", expr)
        for g in clause.split(",")
    }
    matched = {m for block in re.findall(r"\{([^}]*)\}", expr) for m in re.findall(r"(\w+)\s*(?:=~|!~|!=|=)", block)}
    problems += [f"unknown label {label}" for label in sorted((grouped | matched) - labels - {""})]
    shown = re.findall(r"\{\{\s*(\w+)\s*\}\}", legend)
    problems += [f"legend label {label} not grouped by" for label in shown if label not in grouped]
    if not used:
        problems.append("queries no citysettle metric")
    return problems


def panels_of(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for panel in dashboard["panels"]:
        found += panels_of(panel) if panel.get("panels") else []
        if panel["type"] != "row":
            found.append(panel)
    return found


def test_every_dashboard_panel_queries_exported_metrics_only() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    (datasource,) = yaml.safe_load(DATASOURCES.read_text(encoding="utf-8"))["datasources"]
    panels = panels_of(dashboard)
    assert len(panels) >= 10
    problems = []
    for panel in panels:
        assert panel["datasource"]["uid"] == datasource["uid"], panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == datasource["uid"]
            problems += [f"{panel['title']}: {p}" for p in problems_of(target["expr"], target.get("legendFormat", ""))]
    assert problems == []
    shown = {name for p in panels for t in p["targets"] for name in METRIC.findall(t["expr"])}
    bases = {name.removesuffix(suffix) for name in shown for suffix in ("_total", "_bucket", "_sum", "_count")}
    missing = [name for name in documented() if name.removesuffix("_total") not in bases]
    assert missing == [], "every exported metric is on the dashboard"


def test_the_alert_rules_are_the_doc_s_and_use_exported_metrics_only() -> None:
    (group,) = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    rules = {rule["alert"]: (rule["expr"], rule["for"]) for rule in group["rules"]}
    lines = DOC.read_text(encoding="utf-8").splitlines()
    table = {
        ticked(c[0])[0]: (ticked(c[1])[0], c[2]) for c in map(cells, lines) if c and c[0].startswith("`Citysettle")
    }
    assert table == rules
    assert [f"{name}: {p}" for name, (expr, _) in rules.items() for p in problems_of(expr)] == []


def test_unknown_names_are_found() -> None:  # the checker itself
    assert problems_of("sum by (route) (rate(citysettle_http_requests_totl[5m]))") == [
        "unknown metric citysettle_http_requests_totl",
        "unknown label route",
    ]
    assert problems_of('sum by (provider) (citysettle_device_events_total{state="x"})', "{{provider}} {{status}}") == [
        "unknown label provider",
        "unknown label state",
        "legend label status not grouped by",
    ]
    assert problems_of("up") == ["queries no citysettle metric"]
