"""Prometheus itself (its ``promtool``, put in .venv/bin by scripts/ensure_promtool.sh
from ``make test``) accepts docker/'s Prometheus config and alert rules, and parses every
query of the Grafana dashboard (Grafana's ``$__rate_interval`` given as 5m): names alone
are checked in test_metrics_doc.py, this checks the PromQL."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / ".venv" / "bin" / "promtool"
PROMTOOL = str(LOCAL) if LOCAL.is_file() else shutil.which("promtool")
pytestmark = pytest.mark.skipif(PROMTOOL is None, reason="no promtool (make test installs it)")


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, check=False, timeout=60)


def test_prometheus_accepts_the_config_and_its_alert_rules() -> None:
    done = promtool("check", "config", str(ROOT / "docker" / "prometheus" / "prometheus.yml"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 7 rules found" in done.stdout


def test_every_dashboard_query_is_promql(tmp_path: Path) -> None:
    dashboard = json.loads((ROOT / "docker" / "grafana" / "dashboards" / "citysettle.json").read_text(encoding="utf-8"))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert exprs
    rules = [
        {"record": f"citysettle:dashboard:{i}", "expr": e.replace("$__rate_interval", "5m")}
        for i, e in enumerate(exprs)
    ]
    file = tmp_path / "dashboard-rules.yml"
    file.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}), encoding="utf-8")
    done = promtool("check", "rules", str(file))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(exprs)} rules found" in done.stdout


def test_a_broken_query_is_refused(tmp_path: Path) -> None:  # the check itself
    file = tmp_path / "broken.yml"
    rule = {"record": "x:y", "expr": "sum by (le (rate(citysettle_http_requests_total[5m]))"}
    file.write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [rule]}]}), encoding="utf-8")
    assert promtool("check", "rules", str(file)).returncode != 0
