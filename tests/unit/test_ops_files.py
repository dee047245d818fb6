"""The operations files stay valid: Prometheus accepts the alert rules and passes their unit tests, and the
Grafana dashboard and the alerts only name metrics the registry exports."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

import registry.metrics  # noqa: F401  (defines the event metrics in REGISTRY)

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "ops" / "prometheus"
DASHBOARD = ROOT / "ops" / "grafana" / "registry.json"
METRIC_NAME = re.compile(r"\b(registry_[a-z_]+)\b")
SUFFIXES = ("_total", "_bucket", "_count", "_sum", "_created")


def promtool(*arguments: str) -> subprocess.CompletedProcess:
    if not shutil.which("promtool"):
        pytest.fail("promtool is not installed; install Debian's prometheus package (apt-get install prometheus)")
    return subprocess.run(["promtool", *arguments], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120)


def exported_names() -> set[str]:
    """Return every registry_* sample name /metrics can carry: event metrics and those read at scrape time."""
    events = {name for name in REGISTRY._names_to_collectors if name.startswith("registry_")}
    collectors = (ROOT / "registry" / "metrics_collectors.py").read_text()
    return events | set(re.findall(r'"(registry_[a-z_]+)"', collectors))


def base_name(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


def test_promtool_accepts_the_alert_rules():
    result = promtool("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_alert_rules_pass_their_unit_tests():
    result = promtool("test", "rules", "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_prometheus_configuration_is_valid():
    result = promtool("check", "config", "--syntax-only", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", [PROMETHEUS / "alerts.yml", DASHBOARD], ids=["alerts", "dashboard"])
def test_alerts_and_dashboard_name_only_exported_metrics(path):
    known = {base_name(name) for name in exported_names()}
    named = {base_name(name) for name in METRIC_NAME.findall(path.read_text())}
    assert named, f"{path.name} names no registry metric"
    assert named <= known, f"{path.name} names metrics the registry does not export: {sorted(named - known)}"


def test_the_dashboard_has_a_panel_for_every_registry_metric():
    known = {base_name(name) for name in exported_names()}
    dashboard = json.loads(DASHBOARD.read_text())
    shown = {
        base_name(name)
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in METRIC_NAME.findall(target["expr"])
    }
    assert known - {"registry_celery_broker_probe_seconds", "registry_compatibility_checks"} <= shown


# Gauges that every registry instance reads from the same database (registry/metrics_collectors.py).
DATABASE_WIDE_GAUGES = (
    "registry_subjects",
    "registry_subject_versions",
    "registry_schemas",
    "registry_schema_bytes",
    "registry_pending_reviews",
    "registry_pending_reviews_past_notice",
    "registry_pending_review_oldest_seconds",
)


def test_the_dashboard_shows_database_wide_gauges_once_per_tenant_however_many_instances(tmp_path):
    """Each panel expression over such a gauge, evaluated by promtool on two instances exporting the same
    value, gives one series per tenant carrying the value (not one per instance)."""
    dashboard = json.loads(DASHBOARD.read_text())
    records = {
        f"panel_{panel['id']}_{target['refId']}": target["expr"]
        for panel in dashboard["panels"]
        for target in panel["targets"]
        if any(re.search(rf"\b{gauge}\b", target["expr"]) for gauge in DATABASE_WIDE_GAUGES)
    }
    assert len(records) >= len(DATABASE_WIDE_GAUGES)
    rules = {"groups": [{"name": "dashboard", "rules": [{"record": r, "expr": e} for r, e in records.items()]}]}
    (tmp_path / "dashboard.yml").write_text(json.dumps(rules))
    instances = ("registry-1:8081", "registry-2:8081")
    series = [
        {"series": f'{gauge}{{instance="{instance}",job="schema-registry",tenant="acme"}}', "values": "7200x3"}
        for gauge in DATABASE_WIDE_GAUGES
        for instance in instances
    ]
    checks = [
        {
            "expr": record,
            "eval_time": "2m",
            "exp_samples": [{"labels": f'{record}{{tenant="acme"}}', "value": 2 if "/ 3600" in expr else 7200}],
        }
        for record, expr in records.items()
    ]
    test = {
        "rule_files": ["dashboard.yml"],
        "tests": [{"interval": "1m", "input_series": series, "promql_expr_test": checks}],
    }
    (tmp_path / "dashboard_test.yml").write_text(json.dumps(test))
    result = promtool("test", "rules", str(tmp_path / "dashboard_test.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


COMPOSE = ROOT / "docker-compose.yml"
WORKERS = (
    "celery-worker-default",
    "celery-worker-compatibility",
    "celery-worker-codegen",
    "celery-worker-notifications",
)


def yaml_of(path: Path) -> dict:
    import yaml

    return yaml.safe_load(path.read_text())


def compose() -> dict:
    return yaml_of(COMPOSE)


def test_docker_compose_is_valid_yaml_with_a_health_check_on_every_stateful_service():
    services = compose()["services"]
    for name in ("postgres", "redis", "schema-registry", *WORKERS, "prometheus"):
        assert "healthcheck" in services[name], f"{name} has no healthcheck"
        assert services[name]["healthcheck"]["test"], name
    assert "/health/ready" in " ".join(services["schema-registry"]["healthcheck"]["test"])


def test_docker_compose_runs_prometheus_with_the_repository_rules_and_the_metrics_token():
    document = compose()
    prometheus = document["services"]["prometheus"]
    mounted = {
        volume.split(":")[0]: volume.split(":")[1] for volume in prometheus["volumes"] if volume.startswith("./")
    }
    assert mounted == {
        "./ops/prometheus/prometheus.yml": "/etc/prometheus/prometheus.yml",
        "./ops/prometheus/alerts.yml": "/etc/prometheus/alerts.yml",
    }
    for source in mounted:
        assert (ROOT / source).is_file(), source
    assert "metrics_token" in prometheus["secrets"] and "metrics_token" in document["secrets"]
    scrape = (PROMETHEUS / "prometheus.yml").read_text()
    assert "/run/secrets/metrics_token" in scrape and "/etc/prometheus/alerts.yml" in scrape
    assert "REGISTRY_METRICS_TOKEN" in document["x-registry-env"]


def test_every_service_built_from_the_dockerfile_gets_the_packages_it_installs():
    import tomllib

    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    for pattern in packages:
        assert f"COPY {pattern.rstrip('*')} " in dockerfile, f"the Dockerfile does not copy {pattern.rstrip('*')}"
    assert "gunicorn.conf.py" in dockerfile


def test_the_image_runs_as_an_unprivileged_user_of_its_own():
    dockerfile = (ROOT / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)\s*$", dockerfile, re.MULTILINE)

    assert users, "the Dockerfile never leaves root: add USER after installing"
    assert users[-1] not in ("root", "0", "0:0")
    assert dockerfile.rindex("\nUSER ") > dockerfile.rindex("\nFROM "), "USER must come after the last FROM"
    assert f"useradd --system --home /app {users[-1]}" in dockerfile


def test_every_container_of_the_image_has_a_read_only_root_and_writes_only_to_tmpfs_and_the_shared_volume():
    document = compose()
    built = {name: service for name, service in document["services"].items() if "build" in service}

    assert set(built) == {"schema-registry", "celery-beat", *WORKERS}
    for name, service in built.items():
        assert service.get("read_only") is True, name
        assert service["tmpfs"] == ["/tmp"], name
        # The worker writes archives that the registry serves: both see the same /app/var.
        assert service["volumes"] == ["registry-var:/app/var"], name
    assert "registry-var" in document["volumes"]
    # collectstatic would write into the read-only image; the image collected the files when it was built.
    assert "bootstrap --no-static" in " ".join(built["schema-registry"]["command"])
    assert "collectstatic" in (ROOT / "Dockerfile").read_text()


def test_no_secret_has_a_default_value_outside_the_quick_start():
    document = compose()
    environment = {**document["x-registry-env"], **document["services"]["postgres"]["environment"]}

    for name in ("SECRET_KEY", "POSTGRES_PASSWORD", "REGISTRY_METRICS_TOKEN"):
        assert environment[name] == f"${{{name}:?set {name}}}", f"{name} must be required, not defaulted"
    assert "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}@" in environment["DATABASE_URL"]
    # Unset, ensure_admin makes a random password into a file of mode 0600; there is no shared default.
    assert environment["REGISTRY_ADMIN_PASSWORD"] == "${REGISTRY_ADMIN_PASSWORD:-}"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert not re.search(r"^ENV .*(SECRET|PASSWORD|TOKEN)", dockerfile, re.MULTILINE | re.IGNORECASE)
    # The build's throwaway key lives for one RUN line (collectstatic) and is not kept in the image.
    assert re.findall(r"SECRET_KEY=\S+", dockerfile) == ["SECRET_KEY=build-only"]


def test_the_compose_workers_consume_every_queue_a_task_is_routed_to_and_prometheus_scrapes_each():
    from django.conf import settings

    services = compose()["services"]
    workers = {name: service for name, service in services.items() if name.startswith("celery-worker")}
    consumed = [queue for service in workers.values() for queue in service["environment"]["CELERY_QUEUES"].split(",")]

    assert sorted(consumed) == sorted(queue.name for queue in settings.CELERY_TASK_QUEUES)
    for name, service in workers.items():
        assert '-Q "$$CELERY_QUEUES"' in service["command"][-1], name
        assert service["environment"]["REGISTRY_WORKER_METRICS_PORT"] == "9808", name
    (job,) = [
        job for job in yaml_of(PROMETHEUS / "prometheus.yml")["scrape_configs"] if job["job_name"] == "celery-worker"
    ]
    assert sorted(job["dns_sd_configs"][0]["names"]) == sorted(workers)
