"""The registry the load and fault tests run against: every process its own, so a scenario may break any of them.

A private PostgreSQL (migrated here), a Redis for the cache that keeps its data across a restart (as a
production one does), a second Redis as the Celery broker, a Celery worker, and gunicorn with two workers,
all from tests/integration/operations/servers.py. The shared PostgreSQL on 5432 is never touched.
"""

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from tests.integration.celery_workers import celery_worker
from tests.integration.operations.servers import (
    ROOT,
    PrivatePostgres,
    PrivateRedis,
    gunicorn,
    gunicorn_workers,
    private_postgres,
    redis_server,
    registry_env,
)
from tests.reliability.workload import Account

# Settings of the registry under load (each overridable by the scenario that builds the stack).
LOAD_SETTINGS = {
    # Approvals need not wait the spec's 48 hours of notice.
    "REGISTRY_NOTICE_HOURS": "0",
    # Compatibility checks are 8 % of the load from two accounts; the per-user rate would answer 429.
    "REGISTRY_COMPATIBILITY_CHECKS_PER_MINUTE": "0",
    "LOG_FORMAT": "json",
}


@dataclass
class RegistryStack:
    url: str
    env: dict[str, str]
    database: PrivatePostgres
    cache: PrivateRedis
    broker: PrivateRedis
    celery: subprocess.Popen
    writer: Account
    reviewer: Account
    folder: Path

    @property
    def port(self) -> int:
        return urlparse(self.url).port

    def gunicorn_workers(self) -> list[int]:
        """Return the pids of gunicorn's workers serving this stack (the master's children)."""
        return gunicorn_workers(self.url)

    def kill_a_worker(self) -> int:
        """SIGKILL one gunicorn worker, whatever it is doing; the master starts another.

        The victim is a worker that has served for a while (not one still booting, which uses CPU to import
        the registry and serves nothing) seen using CPU: in the middle of a request, most likely a registration,
        the requests that cost most. So a kill seldom lands where it cuts nothing. After two seconds without
        one, the oldest.
        """
        victim = self._busy_worker(give_up=time.monotonic() + 2) or self.gunicorn_workers()[0]
        os.kill(victim, signal.SIGKILL)
        return victim

    def _busy_worker(self, give_up: float) -> int | None:
        before = {pid: _cpu_ticks(pid) for pid in self.gunicorn_workers() if _age_seconds(pid) >= BOOTED_AFTER_SECONDS}
        while time.monotonic() < give_up:
            time.sleep(0.02)
            for pid, ticks in before.items():
                if ticks is not None and (_cpu_ticks(pid) or 0) > ticks:
                    return pid
        return None

    def wait_for_workers(self, count: int = 2, timeout: float = 40) -> None:
        deadline = time.monotonic() + timeout
        while len(self.gunicorn_workers()) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"gunicorn has fewer than {count} workers after {timeout} s")
            time.sleep(0.2)


# A gunicorn worker younger than this may still be importing the registry.
BOOTED_AFTER_SECONDS = 3.0
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _age_seconds(pid: int) -> float:
    """Return how long ago a process started (0 once it is gone)."""
    try:
        started = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])  # starttime, field 22
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except OSError:
        return 0.0
    return uptime - started / _CLOCK_TICKS


def _cpu_ticks(pid: int) -> int | None:
    """Return the user and system CPU time a process has used, in clock ticks (None once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])  # utime and stime, the 14th and 15th fields of stat


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"], env=env, cwd=ROOT, check=True, timeout=300
    )


def create_accounts(env: dict[str, str]) -> tuple[Account, Account]:
    """Create the writer and the reviewer in the stack's database; return them with their password and token."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.reliability.accounts"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    accounts = json.loads(done.stdout.strip().splitlines()[-1])
    return Account(**accounts["load-writer"]), Account(**accounts["load-reviewer"])


@contextmanager
def registry_stack(folder: Path, *, workers: int = 2, **settings: str):
    """Start the whole registry on processes of its own; yield a RegistryStack; stop everything afterwards.

    `settings` are environment variables of the registry and its worker, over LOAD_SETTINGS.
    """
    with ExitStack() as stack:
        database = stack.enter_context(private_postgres())
        cache = stack.enter_context(redis_server(persistent=True))
        broker = stack.enter_context(redis_server())
        folders = {
            "CODEGEN_ARCHIVE_DIR": str(folder / "archives"),
            "REGISTRY_MEDIA_ROOT": str(folder / "media"),
            "REGISTRY_GIT_HISTORY_DIR": "",
        }
        env = registry_env(
            DATABASE_URL=database.url,
            REDIS_URL=cache.url,
            CELERY_BROKER_URL=broker.url,
            CELERY_RESULT_BACKEND=broker.url_of(1),
            **{**folders, **LOAD_SETTINGS, **settings},
        )
        migrate(env)
        writer, reviewer = create_accounts(env)
        celery = stack.enter_context(celery_worker(env, log_path=folder / "celery.log"))
        url = stack.enter_context(gunicorn(env, workers=workers, log_path=folder / "gunicorn.log"))
        yield RegistryStack(
            url=url,
            env=env,
            database=database,
            cache=cache,
            broker=broker,
            celery=celery,
            writer=writer,
            reviewer=reviewer,
            folder=folder,
        )
