"""The Django project of the schema registry: settings, URLs and the Celery app."""

from registry.celery import app as celery_app

__all__ = ("celery_app",)
