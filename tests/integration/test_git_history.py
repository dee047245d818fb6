"""Registered and approved versions are committed to the git history; a commit whose writer never ran is written
by the next one, or by a catch-up; export_git rebuilds the same tree."""

import base64
import fcntl
import json
import subprocess
import threading
import time
import urllib.request

import pytest
from auditlog.context import disable_auditlog
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from schemas_app import git_history, selectors, services
from schemas_app.models import Subject, SubjectVersion
from tests.integration.api.helpers import MONEY, TICK_V1, TICK_V2_ADDS_FIELD, TICK_V2_CHANGES_TYPE, put, register

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def history(settings, tmp_path):
    settings.REGISTRY_GIT_HISTORY_DIR = str(tmp_path / "history.git")
    return tmp_path / "history.git"


def git(repository, *arguments) -> str:
    git_history.write_waiting()  # the versions this process registered, written now rather than in the next lull
    return subprocess.run(
        ["git", "--git-dir", str(repository), *arguments], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_each_registered_version_is_a_commit_by_its_author(api, writer, history):
    writer.email = "writer@example.org"
    writer.save()
    register(api, "common/money.proto", MONEY)
    register(api, "ticks-value", TICK_V1)
    register(api, "ticks-value", TICK_V2_ADDS_FIELD)
    log = git(history, "log", "--format=%an <%ae>|%s", "main").splitlines()
    assert log == [
        "writer <writer@example.org>|ticks-value version 2 (1.1.0)",
        "writer <writer@example.org>|ticks-value version 1 (1.0.0)",
        "writer <writer@example.org>|common/money.proto version 1 (1.0.0)",
    ]
    assert git(history, "show", "main:common/money.proto") + "\n" == MONEY
    assert git(history, "show", "main:ticks-value.proto") + "\n" == TICK_V2_ADDS_FIELD
    assert git(history, "show", "main~1:ticks-value.proto") + "\n" == TICK_V1


def queries_of_registering(api, subject: str, text: str) -> int:
    """Count the queries of a registration and of its commit, written here rather than by the writer thread."""
    with CaptureQueriesContext(connection) as captured:
        assert register(api, subject, text).status_code == 200
        git_history.write_waiting()
    return len(captured.captured_queries)


def test_without_a_broker_the_commit_reads_nothing_from_the_database(
    api, settings, history, forgets_reuse_the_requests_generation
):
    """In-process (no Celery broker) the commit is written from the registration's rows, not read back after it."""
    register(api, "ticks-value", TICK_V1)
    git_history.write_waiting()  # the history's first commit, which reads what came before it
    with_history = queries_of_registering(api, "ticks-value", TICK_V2_ADDS_FIELD)
    settings.REGISTRY_GIT_HISTORY_DIR = ""
    # Schemas of their own (a schema row another subject holds already costs fewer queries).
    other_v1 = TICK_V1.replace("double volume = 4;", "double volume = 4;\n  string note = 8;")
    register(api, "other-value", other_v1)
    without_history = queries_of_registering(
        api, "other-value", other_v1.replace("string note = 8;", "string note = 8;\n  string venue = 7;")
    )

    assert git(history, "rev-list", "--count", "main") == "2"
    assert with_history == without_history


def test_an_approved_change_is_committed_when_it_is_registered_not_when_proposed(api, admin, history):
    assert put(api, "/config", {"noticeHours": 0}).status_code == 200
    register(api, "ticks-value", TICK_V1)
    review_id = register(api, "ticks-value", TICK_V2_CHANGES_TYPE).json()["review_id"]
    assert git(history, "rev-list", "--count", "main") == "1"
    assert admin.post(f"/reviews/{review_id}/approve", {}, format="json").status_code == 200
    assert git(history, "log", "-1", "--format=%an|%s", "main") == "writer|ticks-value version 2 (2.0.0)"


def test_export_git_rebuilds_the_same_tree_from_the_database(api, history, tmp_path):
    register(api, "common/money.proto", MONEY)
    register(api, "ticks-value", TICK_V1)
    register(api, "ticks-value", TICK_V2_ADDS_FIELD)
    rebuilt = tmp_path / "rebuilt.git"
    call_command("export_git", "--output", str(rebuilt))
    assert git(rebuilt, "rev-parse", "main^{tree}") == git(history, "rev-parse", "main^{tree}")
    assert git(rebuilt, "rev-list", "--count", "main") == "3"
    # Same authors, dates and messages: the rebuilt history is the same commits.
    assert git(rebuilt, "rev-parse", "main") == git(history, "rev-parse", "main")


def test_export_git_replaces_a_damaged_repository(api, history):
    register(api, "ticks-value", TICK_V1)
    expected = git(history, "rev-parse", "main^{tree}")
    git(history, "update-ref", "-d", "refs/heads/main")
    call_command("export_git")
    assert git(history, "rev-parse", "main^{tree}") == expected


def hold_the_history_lock(repository, seconds: float) -> threading.Thread:
    """Take the repository's file lock, as a slow writer in another process would, and let it go after `seconds`."""
    lock = open(repository.parent / f".{repository.name}.lock", "w")  # noqa: SIM115 (closed by the thread)
    fcntl.flock(lock, fcntl.LOCK_EX)

    def release() -> None:
        time.sleep(seconds)
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()

    releaser = threading.Thread(target=release)
    releaser.start()
    return releaser


def register_over_http(live_server, subject: str, text: str) -> int:
    request = urllib.request.Request(
        f"{live_server.url}/subjects/{subject}/versions",
        data=json.dumps({"schema": text, "schemaType": "PROTOBUF"}).encode(),
        headers={
            "Content-Type": "application/vnd.schemaregistry.v1+json",
            "Authorization": "Basic " + base64.b64encode(b"writer:writer-password").decode(),
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


def wait_for_commits(repository, count: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = subprocess.run(
            ["git", "--git-dir", str(repository), "rev-list", "--count", "main"], capture_output=True, text=True
        )
        if found.returncode == 0 and int(found.stdout) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"{repository} has not got {count} commits after 10 s")


def test_the_answer_is_sent_before_the_commit_is_written(live_server, writer, history):
    """The client reads its answer while the git history's lock is held elsewhere; the commit follows in order."""
    assert register_over_http(live_server, "ticks-value", TICK_V1) == 200
    wait_for_commits(history, 1)  # written by the server's thread after it answered
    releaser = hold_the_history_lock(history, seconds=3)

    started = time.monotonic()
    assert register_over_http(live_server, "ticks-value", TICK_V2_ADDS_FIELD) == 200
    answered_in = time.monotonic() - started
    releaser.join()
    assert answered_in < 2

    wait_for_commits(history, 2)
    assert git(history, "log", "--format=%s", "main").splitlines() == [
        "ticks-value version 2 (1.1.0)",
        "ticks-value version 1 (1.0.0)",
    ]


def register_without_its_commit(api, settings, subject: str, text: str) -> int:
    """Register a version as a worker killed before its git commit leaves it: in the database
    only. Return its id."""
    configured, settings.REGISTRY_GIT_HISTORY_DIR = settings.REGISTRY_GIT_HISTORY_DIR, ""
    try:
        answer = register(api, subject, text)
    finally:
        settings.REGISTRY_GIT_HISTORY_DIR = configured
    assert answer.status_code == 200
    return SubjectVersion.objects.filter(subject__name=subject).latest("pk").pk


def subjects_in(history) -> list[str]:
    return git(history, "log", "--reverse", "--format=%s", "main").splitlines()


def test_a_version_whose_commit_never_ran_is_written_by_the_next_registration_before_its_own(api, settings, history):
    register(api, "ticks-value", TICK_V1)
    register_without_its_commit(api, settings, "common/money.proto", MONEY)
    register_without_its_commit(api, settings, "ticks-value", TICK_V2_ADDS_FIELD)
    assert subjects_in(history) == ["ticks-value version 1 (1.0.0)"]

    register(api, "other-value", TICK_V1)

    assert subjects_in(history) == [
        "ticks-value version 1 (1.0.0)",
        "common/money.proto version 1 (1.0.0)",
        "ticks-value version 2 (1.1.0)",
        "other-value version 1 (1.0.0)",
    ]
    assert git(history, "show", "main:ticks-value.proto") + "\n" == TICK_V2_ADDS_FIELD


def test_a_new_historys_first_commit_writes_the_versions_registered_before_it_first(api, settings, history):
    """Two first registrations at once: the later one's commit, written first, does not take the earlier for written."""
    earlier = register_without_its_commit(api, settings, "common/money.proto", MONEY)

    register(api, "ticks-value", TICK_V1)
    git_history.write_waiting()  # its commit, written first
    assert git_history.record_version(earlier) is None  # its own writer comes last: written already

    assert subjects_in(history) == ["common/money.proto version 1 (1.0.0)", "ticks-value version 1 (1.0.0)"]


def test_a_late_commit_of_a_version_written_already_writes_nothing(api, settings, history):
    register(api, "ticks-value", TICK_V1)
    late = register_without_its_commit(api, settings, "common/money.proto", MONEY)
    register(api, "ticks-value", TICK_V2_ADDS_FIELD)
    head = git(history, "rev-parse", "main")

    assert git_history.record_version(late) is None

    assert git(history, "rev-parse", "main") == head
    assert git(history, "rev-list", "--count", "main") == "3"


def test_the_catch_up_writes_what_the_history_lacks_in_order_and_then_nothing(api, settings, history):
    register(api, "ticks-value", TICK_V1)
    register_without_its_commit(api, settings, "common/money.proto", MONEY)
    register_without_its_commit(api, settings, "ticks-value", TICK_V2_ADDS_FIELD)

    assert git_history.catch_up_history() == 2
    assert git_history.catch_up_history() == 0

    assert subjects_in(history) == [
        "ticks-value version 1 (1.0.0)",
        "common/money.proto version 1 (1.0.0)",
        "ticks-value version 2 (1.1.0)",
    ]


def test_a_version_still_being_registered_is_written_by_its_own_commit_after_a_later_one(api, history):
    """A registration whose transaction commits after a later one's: that one's catch-up must leave its id awaited.

    The transaction is held open right after its version's row is inserted, as a registration is before it seals its
    audit entries (whose lock would hold up the later registration too).
    """
    register(api, "ticks-value", TICK_V1)
    schema = SubjectVersion.objects.get().schema
    inserted, release, failures = threading.Event(), threading.Event(), []

    def insert_and_wait() -> None:
        try:
            with disable_auditlog(), transaction.atomic():
                subject = Subject.objects.create(tenant=selectors.default_tenant(), name="slow-value")
                version = SubjectVersion.objects.create(
                    subject=subject, version=1, schema=schema, semantic_version="1.0.0"
                )
                transaction.on_commit(lambda: git_history.record_version(version.pk))
                inserted.set()
                assert release.wait(30)
        except BaseException as error:
            failures.append(error)
            inserted.set()
        finally:
            connection.close()

    slow = threading.Thread(target=insert_and_wait)
    slow.start()
    assert inserted.wait(30)
    register(api, "ticks-value", TICK_V2_ADDS_FIELD)
    awaiting = git(history, "log", "-1", "--format=%b", "main")
    release.set()
    slow.join()

    assert failures == []
    assert "Registry-Awaiting: " in awaiting
    assert subjects_in(history) == [
        "ticks-value version 1 (1.0.0)",
        "ticks-value version 2 (1.1.0)",
        "slow-value version 1 (1.0.0)",
    ]
    assert "Registry-Awaiting" not in git(history, "log", "-1", "--format=%b", "main")
    assert git_history.catch_up_history() == 0


def test_concurrent_writers_write_each_version_once_and_each_subject_in_order(monkeypatch, history, writer):
    """Writers of several subjects at once, those of a third of the versions killed before their commit."""
    subjects = [f"race{index}-value" for index in range(4)]
    lot = "string venue = 7;\n  int32 lot = 8;"
    texts = [TICK_V1, TICK_V2_ADDS_FIELD, TICK_V2_ADDS_FIELD.replace("string venue = 7;", lot)]
    failures = []
    write_soon = git_history.write_soon

    def killed_for_every_third(repository, version):
        return write_soon(repository, version) if version.pk % 3 else None

    def register_all(subject: str) -> None:
        try:
            for text in texts:
                services.subject_version_register(
                    tenant=selectors.default_tenant(), subject_name=subject, schema=text, acting_user=writer
                )
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    monkeypatch.setattr(git_history, "write_soon", killed_for_every_third)
    threads = [threading.Thread(target=register_all, args=(subject,)) for subject in subjects]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    git_history.catch_up_history()  # the versions after the last one written, if their writers were killed

    written = subjects_in(history)
    for subject in subjects:
        assert [line for line in written if line.startswith(subject)] == [
            f"{subject} version {number} (1.{number - 1}.0)" for number in (1, 2, 3)
        ]
    assert len(written) == len(subjects) * len(texts)


def test_versions_registered_in_a_burst_are_written_by_the_writer_thread_as_one_pack(api, settings, history):
    ids = [
        register_without_its_commit(api, settings, "common/money.proto", MONEY),
        register_without_its_commit(api, settings, "ticks-value", TICK_V1),
        register_without_its_commit(api, settings, "ticks-value", TICK_V2_ADDS_FIELD),
    ]
    for version in git_history._versions().filter(pk__in=ids).order_by("-pk"):  # in any order
        git_history.write_soon(history, version)

    wait_for_commits(history, 3)  # nothing asks for them: the thread writes them once registrations pause
    assert len(list((history / "objects" / "pack").glob("*.idx"))) == 1
    assert subjects_in(history) == [
        "common/money.proto version 1 (1.0.0)",
        "ticks-value version 1 (1.0.0)",
        "ticks-value version 2 (1.1.0)",
    ]
    git(history, "fsck", "--strict")
