"""Writes whose transaction PostgreSQL gives up on answer 503/50301 with Retry-After, and change nothing.

Another connection holds the subject's row lock while the request under test waits for it; the request's own
connection then gives up (lock_timeout) or is ended by the server. Sent again once the lock is free, the same
request succeeds. A database error that is a bug, not the database giving up, stays a 500.
"""

import pytest
from django.db import OperationalError, connection

from schemas_app.auditing import audited
from schemas_app.errors import TryAgain
from schemas_app.models import Artifact, GenerationJob, Subject, SubjectVersion
from tests.integration.api.helpers import TICK_V1, TICK_V2_ADDS_FIELD, post, register
from tests.integration.lock_waits import wait_for_a_waiting_writer, while_locked

pytestmark = pytest.mark.django_db(transaction=True)


def lock_the_subject():
    Subject.objects.select_for_update().get(name="ticks-value")


def while_the_subject_is_held(request, then=lambda: None):
    """Send `request` while another connection holds ticks-value's lock; return its answer."""
    return while_locked(lock_the_subject, request, then)


def assert_try_again(response):
    assert response.status_code == 503, response.content
    assert response.json() == {
        "error_code": 50301,
        "message": "The backend data store could not complete the request; send it again",
    }
    assert response["Retry-After"] == "1"


@pytest.fixture
def ticks(api):
    assert register(api, "ticks-value", TICK_V1).status_code == 200


def test_a_registration_that_cannot_get_its_subjects_lock_answers_503_and_stores_nothing(api, ticks, short_lock_waits):
    response = while_the_subject_is_held(lambda: register(api, "ticks-value", TICK_V2_ADDS_FIELD))
    assert_try_again(response)
    assert list(SubjectVersion.objects.values_list("version", flat=True)) == [1]
    again = register(api, "ticks-value", TICK_V2_ADDS_FIELD)
    assert again.status_code == 200, again.content
    assert SubjectVersion.objects.count() == 2


def test_a_managed_subject_delete_that_cannot_get_its_lock_answers_503_and_deletes_nothing(
    api, admin, ticks, short_lock_waits
):
    response = while_the_subject_is_held(lambda: admin.delete("/schemas/ticks-value"))
    assert_try_again(response)
    assert not SubjectVersion.objects.filter(deleted=True).exists()
    assert admin.delete("/schemas/ticks-value").json() == [1]


def test_a_deprecation_whose_connection_the_server_ends_answers_503(admin, ticks):
    def end_the_waiting_backend():
        wait_for_a_waiting_writer("the deprecation never waited for the subject")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )

    response = while_the_subject_is_held(
        lambda: post(admin, "/subjects/ticks-value/deprecate", {}), then=end_the_waiting_backend
    )
    connection.close()  # the test client keeps the request's (ended) connection; the next query opens another
    assert_try_again(response)
    assert SubjectVersion.objects.get().state == SubjectVersion.State.ACTIVE
    assert post(admin, "/subjects/ticks-value/deprecate", {}).status_code == 200


def test_a_generation_that_cannot_get_its_archives_row_answers_503_and_starts_nothing(admin, ticks, short_lock_waits):
    def generate():
        return admin.post("/generate/python", {"subject": "ticks-value"}, format="json")

    assert generate().status_code == 202  # run at once (no broker): the archive is stored
    response = while_locked(lambda: Artifact.objects.select_for_update().get(), generate)
    assert_try_again(response)
    assert GenerationJob.objects.count() == 1
    again = generate()
    assert again.status_code == 200, again.content
    assert again.json()["cached"] is True


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_the_web_pages_generate_form_that_cannot_get_its_archives_row_answers_503_with_retry_after(
    console, ticks, short_lock_waits, accept
):
    def generate():
        return console.post("/ui/subjects/ticks-value/generate/", {"language": "python"}, HTTP_ACCEPT=accept)

    assert generate().status_code in (302, 202)  # run at once (no broker): the archive is stored
    response = while_locked(lambda: Artifact.objects.select_for_update().get(), generate)
    assert response.status_code == 503, response.content
    assert response["Content-Type"].startswith(accept)
    assert response["Retry-After"] == "1"
    assert GenerationJob.objects.count() == 1


def test_a_database_error_that_is_a_bug_is_not_answered_as_retryable(owner):
    @audited
    def read_a_sequence_never_advanced(*, acting_user):
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMPORARY SEQUENCE never_advanced")
            cursor.execute("SELECT currval('never_advanced')")  # 55000, an OperationalError of a wrong program

    with pytest.raises(OperationalError) as raised:
        read_a_sequence_never_advanced(acting_user=owner)
    assert not isinstance(raised.value, TryAgain)
    assert raised.value.__cause__.sqlstate == "55000"
