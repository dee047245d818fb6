"""`manage.py bootstrap` prepares a registry; `--no-static` leaves the static files an image collected alone."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_bootstrap_collects_the_static_files_and_creates_the_admin(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"

    call_command("bootstrap", "--no-schemas", stdout=io.StringIO())

    assert (tmp_path / "static" / "admin").is_dir()
    assert get_user_model().objects.filter(is_superuser=True).exists()


def test_bootstrap_without_static_writes_nothing_where_a_read_only_image_keeps_them(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"

    call_command("bootstrap", "--no-schemas", "--no-static", stdout=io.StringIO())

    assert not (tmp_path / "static").exists()
    assert get_user_model().objects.filter(is_superuser=True).exists()
