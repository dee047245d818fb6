"""Create the load test's two accounts in a registry database and print their credentials as JSON.

Run in a subprocess with the registry's environment (`python -m tests.reliability.accounts`): the database is
the stack's private one, which the test process's Django is not connected to. The writer registers, proposes,
deprecates and asks for code; the reviewer approves what the writer proposed (never their own).
"""

import json
import secrets

ROLES = ("write", "approve", "codegen", "delete")


def create_account(username: str) -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    from schemas_app.access import permission_of
    from schemas_app.tokens import api_token_create

    password = secrets.token_urlsafe(18)
    user = get_user_model().objects.create_user(username, f"{username}@example.org", password)
    codenames = [permission_of(role) for role in ROLES]
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="schemas_app", content_type__model="tenant", codename__in=codenames
        )
    )
    token = api_token_create(user=user, name="load test", acting_user=user)[1]
    return {"username": username, "password": password, "token": token}


def main() -> None:
    import django

    django.setup()
    print(json.dumps({name: create_account(name) for name in ("load-writer", "load-reviewer")}))


if __name__ == "__main__":
    main()
