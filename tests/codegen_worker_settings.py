"""Settings of the Celery worker that the code generation tests start: the suite's own, on its test database.

The test passes the database name, broker URL and key prefix of its run in the
environment, so the worker shares the suite's data and never takes another run's tasks.
"""

import os

from tests.settings import *  # noqa: F403

DATABASES["default"]["NAME"] = os.environ["CODEGEN_TEST_DATABASE_NAME"]  # noqa: F405
CELERY_BROKER_URL = os.environ["CODEGEN_TEST_BROKER_URL"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "global_keyprefix": os.environ["CODEGEN_TEST_KEY_PREFIX"],
    # A killed worker's task comes back within seconds, not the production hour.
    "visibility_timeout": 2,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
CODEGEN_JOB_LEASE_SECONDS = 2
