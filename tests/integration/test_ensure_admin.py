"""`python manage.py ensure_admin`: the first admin account, and where its generated password goes (not the logs)."""

import io
import stat

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


@pytest.fixture
def password_file(tmp_path, settings, monkeypatch):
    monkeypatch.delenv("REGISTRY_ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("REGISTRY_ADMIN_USERNAME", raising=False)
    settings.REGISTRY_ADMIN_PASSWORD_FILE = tmp_path / "var" / "admin-password"
    return settings.REGISTRY_ADMIN_PASSWORD_FILE


def ensure_admin() -> str:
    out = io.StringIO()
    call_command("ensure_admin", stdout=out)
    return out.getvalue()


def test_a_generated_password_goes_to_a_file_only_its_owner_reads_and_never_to_the_output(password_file):
    output = ensure_admin()

    password = password_file.read_text(encoding="utf-8").strip()
    assert authenticate(username="admin", password=password) is not None
    assert password not in output
    assert f"Created admin account 'admin'; its generated password is in {password_file}" in output
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600


def test_a_later_run_keeps_the_account_and_says_where_the_password_is(password_file):
    ensure_admin()
    password = password_file.read_text(encoding="utf-8")

    assert ensure_admin() == f"Admin account 'admin' exists (its generated password is in {password_file}).\n"
    assert password_file.read_text(encoding="utf-8") == password


def test_a_file_left_readable_by_others_is_replaced_by_one_only_its_owner_reads(password_file):
    password_file.parent.mkdir(parents=True)
    password_file.write_text("an old password\n", encoding="utf-8")
    password_file.chmod(0o644)

    ensure_admin()

    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    assert password_file.read_text(encoding="utf-8") != "an old password\n"


def test_a_chosen_password_writes_no_file(password_file, monkeypatch):
    monkeypatch.setenv("REGISTRY_ADMIN_PASSWORD", "chosen-password")

    assert ensure_admin() == "Created admin account 'admin'.\n"
    assert authenticate(username="admin", password="chosen-password") is not None
    assert not password_file.exists()


def test_an_unwritable_password_file_creates_no_account(password_file, settings, django_user_model):
    settings.REGISTRY_ADMIN_PASSWORD_FILE = password_file.parent / "missing-folder-is-a-file" / "admin-password"
    password_file.parent.mkdir(parents=True)
    (password_file.parent / "missing-folder-is-a-file").write_text("", encoding="utf-8")

    with pytest.raises(CommandError, match="set REGISTRY_ADMIN_PASSWORD_FILE to a writable path"):
        ensure_admin()
    assert not django_user_model.objects.filter(username="admin").exists()
