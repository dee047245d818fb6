import pytest
from django.test import Client


@pytest.fixture
def staff_console(staff) -> Client:
    """A browser session of the test module's `staff` account (each admin test module says which staff it means)."""
    client = Client()
    client.force_login(staff)
    return client
