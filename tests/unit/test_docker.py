"""docker/ holds together: the Dockerfile keeps the image rules hadolint lints in
``make lint`` (multi-stage, pinned slim base, non-root, healthcheck), and the compose file
wires what it names to files that exist: Prometheus scrapes the service on its port with
the rules beside it, Grafana provisions the dashboard from the folder it mounts, every
image is pinned. ``docker compose config`` validates the file too where a Docker client
with compose is installed (it is not on this project's machines; README says so)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
COMPOSE = DOCKER / "compose.yaml"


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return loaded


def test_the_image_is_multi_stage_slim_pinned_non_root_with_a_healthcheck() -> None:
    lines = [line.strip() for line in (DOCKER / "Dockerfile").read_text(encoding="utf-8").splitlines()]
    bases = [line.split()[1] for line in lines if line.startswith("FROM ")]
    assert len(bases) >= 2, "a build stage and a runtime stage"
    assert all(re.fullmatch(r"python:\d+\.\d+\.\d+-slim-[a-z]+", base) for base in bases), bases
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users, "runs as a user of its own"
    assert re.fullmatch(r"[1-9]\d{3,}:[1-9]\d{3,}", users[-1]), "a numeric, unprivileged uid:gid"
    assert any(line.startswith("HEALTHCHECK ") for line in lines)


def test_every_image_is_pinned_and_every_mounted_file_exists() -> None:
    services = compose()["services"]
    for name, service in services.items():
        image = service.get("image", "")
        if "build" in service:
            continue
        assert re.search(r":v?\d+\.\d+", image), f"{name}: {image!r} is not pinned to a version"
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (DOCKER / source).exists(), f"{name} mounts {source}, which is not in docker/"


def test_the_service_runs_several_workers_on_postgresql() -> None:
    service = compose()["services"]["citysettle"]
    command = service["command"]
    assert command[0] == "serve"
    assert int(command[command.index("--workers") + 1]) >= 2
    assert service["environment"]["CITYSETTLE_STORE"].startswith("postgresql://citysettle:citysettle@postgres:5432/")
    assert service["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_prometheus_scrapes_the_service_with_the_rules_beside_its_config() -> None:
    services = compose()["services"]
    (mount,) = [v for v in services["prometheus"]["volumes"] if v.startswith("./prometheus:")]
    inside = mount.split(":")[1]
    config_flag = next(a for a in services["prometheus"]["command"] if a.startswith("--config.file="))
    config_path = Path(config_flag.split("=", 1)[1])
    assert config_path.parent == Path(inside)
    config = yaml.safe_load((DOCKER / "prometheus" / config_path.name).read_text(encoding="utf-8"))
    for rules in config["rule_files"]:
        assert (DOCKER / "prometheus" / rules).is_file()
    (job,) = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    port = services["citysettle"]["ports"][0].rsplit(":", 1)[1]
    assert job["static_configs"][0]["targets"] == [f"citysettle:{port}"]


def test_grafana_provisions_the_dashboard_from_the_folder_it_mounts() -> None:
    volumes = dict(
        v.rsplit(":", 1)[0].split(":", 1) for v in compose()["services"]["grafana"]["volumes"] if v.startswith(".")
    )
    provisioning = DOCKER / "grafana" / "provisioning"
    assert volumes["./grafana/provisioning"] == "/etc/grafana/provisioning"
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "citysettle.yaml").read_text(encoding="utf-8"))[
        "providers"
    ]
    assert volumes["./grafana/dashboards"] == provider["options"]["path"]
    assert (DOCKER / "grafana" / "dashboards" / "citysettle.json").is_file()
    (datasource,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yaml").read_text(encoding="utf-8"))[
        "datasources"
    ]
    assert datasource["url"] == "http://prometheus:9090"
    assert compose()["services"]["prometheus"]["ports"][0].endswith(":9090")


def _compose_client() -> list[str] | None:
    """``docker compose`` (the plugin), else ``docker-compose`` (v1): either validates."""
    for client in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(client[0]) is None:
            continue
        if subprocess.run([*client, "version"], capture_output=True, check=False).returncode == 0:
            return client
    return None


@pytest.mark.skipif(_compose_client() is None, reason="no Docker client with compose on this machine")
def test_docker_compose_config_accepts_the_file() -> None:
    client = _compose_client()
    assert client is not None
    done = subprocess.run(
        [*client, "-f", str(COMPOSE), "config", "--quiet"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
