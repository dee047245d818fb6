"""Create the first admin account if there is none; safe to run on every start."""

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from registry.env import env_str


class Command(BaseCommand):
    help = (
        "Create a superuser from REGISTRY_ADMIN_USERNAME / REGISTRY_ADMIN_PASSWORD (a password is generated and "
        "printed once when unset)."
    )

    def handle(self, *args, **options):
        user_model = get_user_model()
        username = env_str("REGISTRY_ADMIN_USERNAME", "admin")
        if user_model.objects.filter(username=username).exists():
            self.stdout.write(f"Admin account {username!r} exists.")
            return
        password = env_str("REGISTRY_ADMIN_PASSWORD")
        generated = not password
        if generated:
            password = secrets.token_urlsafe(18)
        user_model.objects.create_superuser(
            username=username, email=env_str("REGISTRY_ADMIN_EMAIL", ""), password=password
        )
        if generated:
            self.stdout.write(
                self.style.WARNING(
                    f"Created admin account {username!r} with password {password!r} (shown once; set "
                    "REGISTRY_ADMIN_PASSWORD to choose it)."
                )
            )
        else:
            self.stdout.write(f"Created admin account {username!r}.")
