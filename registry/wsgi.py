"""WSGI entry point for gunicorn: `gunicorn registry.wsgi`."""

import os

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
try:
    application = get_wsgi_application()
except ImproperlyConfigured as error:
    # One line naming the variable to set, instead of a traceback per worker.
    raise SystemExit(f"Error: {error}") from None
