"""gunicorn settings for the registry: `gunicorn registry.wsgi` (gunicorn reads this file from the working directory).

Several workers each count their own events; prometheus-client's multiprocess mode keeps them in
files under PROMETHEUS_MULTIPROC_DIR that `/metrics` adds up. The folder must be set before the
workers import prometheus-client and must start empty, so it is prepared here, in the master.
"""

import os
import shutil
import tempfile
from pathlib import Path

bind = f"0.0.0.0:{os.environ.get('REGISTRY_PORT', '8081')}"
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
# Requests are logged by the registry itself, as JSON with their request id (registry.logging).
accesslog = None

_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="registry-metrics-")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir


def on_starting(server):
    """Forget figures of an earlier run: a restarted registry starts its counters at zero, as Prometheus expects."""
    folder = Path(_metrics_dir)
    if folder.exists():
        for entry in folder.iterdir():
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    folder.mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    """Drop a dead worker's live gauges; its counters stay in the sums."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    """Commit the versions the git history lacks before serving: a worker killed after a registration's answer and
    before its commit left that version out, and without a broker only the next registration would write it."""
    from schemas_app import git_history

    try:
        git_history.catch_up_history()
    except Exception:  # the history can wait for the next registration; the worker must start
        worker.log.exception("Could not catch up the git history")


# gunicorn's own lines (start, worker exits) in the registry's format, so a log collector reads one shape.
if os.environ.get("LOG_FORMAT", "json") == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_context": {"()": "registry.logs.RequestContextFilter"}},
        "formatters": {"json": {"()": "registry.logs.RegistryJsonFormatter"}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_context"]}
        },
        "loggers": {"gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False}},
    }
