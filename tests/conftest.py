"""Suite-wide fixtures, and a start-up check that the real services the tests need are reachable."""

import os
from urllib.parse import urlparse

import pytest

SERVICE_HINTS = {
    "PostgreSQL": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "Redis": 'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no',
    "NATS": "apt-get install nats-server && nats-server -a 127.0.0.1 -p 4222 -js &",
}


def _require_postgres(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    try:
        psycopg.connect(
            host=parsed.hostname,
            port=parsed.port or 5432,
            user=parsed.username or "postgres",
            password=parsed.password,
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except psycopg.OperationalError as error:
        pytest.exit(
            f"PostgreSQL is not reachable at {parsed.hostname}:{parsed.port or 5432} ({error}). Start it with: "
            f"{SERVICE_HINTS['PostgreSQL']}",
            returncode=3,
        )


def _require_redis(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        pytest.exit(f"Redis is not reachable at {url} ({error}). Start it with: {SERVICE_HINTS['Redis']}", returncode=3)


def _require_nats(url: str) -> None:
    """The transport tests publish through JetStream; a plain TCP connect says whether the server is up."""
    import socket

    parsed = urlparse(url)
    try:
        socket.create_connection((parsed.hostname, parsed.port or 4222), timeout=3).close()
    except OSError as error:
        pytest.exit(f"NATS is not reachable at {url} ({error}). Start it with: {SERVICE_HINTS['NATS']}", returncode=3)


def missing_tools() -> list[tuple[str, str]]:
    """Return (what is missing, the command that installs it) for every tool some test runs."""
    import shutil

    from codegen.generators import NODE_DIR
    from tests.browser.conftest import CHROMIUM
    from tests.integration.codegen.golang import missing_go_packages

    missing = []
    debian = [tool for tool in ("protoc-gen-go", "protoc-gen-go-grpc") if shutil.which(tool) is None]
    debian += missing_go_packages()
    if not shutil.which(CHROMIUM):
        debian.append("chromium")
    if shutil.which("node") is None or shutil.which("npm") is None:
        debian += ["nodejs", "npm"]
    if debian:
        missing.append((", ".join(debian), f"apt-get install -y --no-install-recommends {' '.join(debian)}"))
    if not (NODE_DIR / "node_modules" / ".bin" / "protoc-gen-ts_proto").is_file():
        missing.append(("ts-proto (the TypeScript generator)", f"(cd {NODE_DIR} && npm ci)"))
    return missing


def _require_tools() -> None:
    """Stop at once, naming the install commands, rather than fail or skip test by test (`make test` installs them)."""
    missing = missing_tools()
    if missing:
        lines = [f"  {what}: {command}" for what, command in missing]
        pytest.exit("Tools the tests run are missing; install them with:\n" + "\n".join(lines), returncode=4)


def pytest_sessionstart(session):
    _require_tools()
    _require_postgres(os.environ["DATABASE_URL"])
    _require_redis(os.environ["REDIS_URL"])
    _require_nats(os.environ.get("NATS_URL", "nats://127.0.0.1:4222"))


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Start every test with an empty cache so no test reads another's entries."""
    empty_caches()
    yield


def empty_caches() -> None:
    """Empty this run's shared cache and this process's copies.

    Module-scoped fixtures call it too: they are set up before `_fresh_cache`, so without it they would read
    what the previous test cached, such as the row id of a default tenant its rollback removed.
    """
    from django.core.cache import cache

    from schemas_app import cache as registry_cache

    # delete_pattern honours this run's key prefix; clear() would flush every run's keys in the Redis db.
    cache.delete_pattern("*") if hasattr(cache, "delete_pattern") else cache.clear()
    registry_cache.clear_local()


from tests.conftest_users import (  # noqa: E402,F401  (shared fixtures)
    admin,
    anonymous,
    api,
    ci,
    console,
    generator,
    outsider,
    outsider_client,
    owner,
    second_desk_staff,
    second_tenant,
    second_tenant_writer,
    writer,
)


def pytest_sessionfinish(session, exitstatus):
    import shutil

    from django.conf import settings

    from tests import hostile_stats

    hostile_stats.write_if_asked()
    # This run's folder of generated archives (tests/settings.py names it after the process).
    folder = settings.CODEGEN_ARCHIVE_DIR
    if folder.parent.name == f"registry-test-{os.getpid()}":
        shutil.rmtree(folder.parent, ignore_errors=True)
