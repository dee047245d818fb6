"""Settings for the test suite: the project's own, pointed at real local PostgreSQL and Redis.

Both addresses can be overridden with TEST_DATABASE_URL and TEST_REDIS_URL.
"""

import os
import tempfile

os.environ["DATABASE_URL"] = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/registry")
os.environ["REDIS_URL"] = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.pop("CELERY_BROKER_URL", None)
# Git history is off except in the tests of it, which give it a folder of their own.
os.environ["REGISTRY_GIT_HISTORY_DIR"] = ""

# Generated archives of this run's own (a Celery worker the tests start inherits the variable, so it shares them).
os.environ.setdefault(
    "CODEGEN_ARCHIVE_DIR", os.path.join(tempfile.gettempdir(), f"registry-test-{os.getpid()}", "archives")
)
# A generated admin password (bootstrap's tests) goes to this run's own folder, not the checkout's var/.
os.environ.setdefault(
    "REGISTRY_ADMIN_PASSWORD_FILE",
    os.path.join(tempfile.gettempdir(), f"registry-test-{os.getpid()}", "admin-password"),
)

from registry.settings import *  # noqa: F403

# A test database of this run's own, so two suites on one machine (a developer's and CI's) never collide.
DATABASES["default"]["TEST"] = {"NAME": f"test_registry_{os.getpid()}"}  # noqa: F405

# Cache keys of this run's own, for the same reason (the fixtures clear only this prefix).
CACHES["default"]["KEY_PREFIX"] = f"test{os.getpid()}"  # noqa: F405

# Serve static files straight from the apps, as runserver does; tests never run collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
# The cache generation is read once per test (the fixtures reset it), so tests that count queries count the same.
REGISTRY_CACHE_GENERATION_SECONDS = 3600.0
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
