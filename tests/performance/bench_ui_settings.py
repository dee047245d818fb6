"""Settings of the browser-page benchmark: the project's own, with a cache prefix and host of the run's own."""

import os

from registry.settings import *  # noqa: F403

ALLOWED_HOSTS = ["testserver"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
CACHES["default"]["KEY_PREFIX"] = f"bench-ui-{os.getpid()}"  # noqa: F405
