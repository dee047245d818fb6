"""Named users shared by the API tests: an owner who may do everything, a writer, and an outsider."""

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

# Model permissions hold a role everywhere: the writer registers, deletes and configures in any tenant it sees.
WRITER_PERMISSIONS = ("write_schemas", "delete_schemas", "approve_changes")


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_superuser("owner", "owner@example.org", "owner-password")


@pytest.fixture
def writer(django_user_model):
    user = django_user_model.objects.create_user("writer", "writer@example.org", "writer-password")
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="schemas_app", content_type__model="tenant", codename__in=WRITER_PERMISSIONS
        )
    )
    return user


@pytest.fixture
def outsider(django_user_model):
    return django_user_model.objects.create_user("outsider", "outsider@example.org", "outsider-password")


@pytest.fixture
def api(writer):
    """A client signed in as the writer, sending Confluent's content type."""
    client = APIClient()
    client.force_authenticate(writer)
    return client


def api_token(user) -> str:
    """Return the secret of a new API token of the user."""
    from schemas_app.tokens import api_token_create

    return api_token_create(user=user, name="tests", acting_user=user)[1]


@pytest.fixture
def anonymous():
    return APIClient()
