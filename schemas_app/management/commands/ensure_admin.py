"""Create the first admin account if there is none; safe to run on every start.

A generated password goes to a file only its owner may read (REGISTRY_ADMIN_PASSWORD_FILE), never to the output:
the output of a container's start-up ends up in its logs.
"""

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from registry.env import env_str


class Command(BaseCommand):
    help = (
        "Create a superuser from REGISTRY_ADMIN_USERNAME / REGISTRY_ADMIN_PASSWORD (when unset, a password is "
        "generated and written to REGISTRY_ADMIN_PASSWORD_FILE, readable by its owner only)."
    )

    def handle(self, *args, **options):
        user_model = get_user_model()
        username = env_str("REGISTRY_ADMIN_USERNAME", "admin")
        password_file = Path(settings.REGISTRY_ADMIN_PASSWORD_FILE)
        if user_model.objects.filter(username=username).exists():
            kept = f" (its generated password is in {password_file})" if password_file.is_file() else ""
            self.stdout.write(f"Admin account {username!r} exists{kept}.")
            return
        password = env_str("REGISTRY_ADMIN_PASSWORD")
        generated = not password
        if generated:
            password = secrets.token_urlsafe(18)
            # Written before the account exists: when it cannot be, nobody holds a password nobody knows.
            write_secret(password_file, password)
        user_model.objects.create_superuser(
            username=username, email=env_str("REGISTRY_ADMIN_EMAIL", ""), password=password
        )
        if generated:
            self.stdout.write(
                self.style.WARNING(
                    f"Created admin account {username!r}; its generated password is in {password_file} (readable by "
                    "this user only; set REGISTRY_ADMIN_PASSWORD to choose it)."
                )
            )
        else:
            self.stdout.write(f"Created admin account {username!r}.")


def write_secret(path: Path, secret: str) -> None:
    """Write the secret to a new file of mode 0600, replacing any file there (never following a link)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except OSError as error:
        raise CommandError(
            f"Cannot write the admin password to {path} ({error.strerror}): set REGISTRY_ADMIN_PASSWORD_FILE to a "
            "writable path, or REGISTRY_ADMIN_PASSWORD."
        ) from None
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(secret + "\n")
