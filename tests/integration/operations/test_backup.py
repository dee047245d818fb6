"""export_registry then import_registry into an empty registry reproduces every API answer byte for byte."""

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from guardian.shortcuts import get_perms

from schemas_app import backup
from schemas_app import cache as registry_cache
from schemas_app.models import Schema, SchemaReference, Subject, SubjectVersion, Tenant
from tests.integration.api.helpers import TICK_V1, register
from tests.integration.operations.registry_content import fill_registry

pytestmark = pytest.mark.django_db


def forget_caches():
    cache.delete_pattern("*") if hasattr(cache, "delete_pattern") else cache.clear()
    registry_cache.clear_local()


def every_answer(client) -> dict[str, bytes]:
    """Return the raw body of every read the Confluent API offers on the default tenant's content."""
    forget_caches()
    paths = ["/subjects", "/subjects?deleted=true", "/schemas", "/schemas?deleted=true", "/config", "/mode", "/reviews"]
    paths += [f"/reviews/{review['id']}" for review in client.get("/reviews").json()]
    for subject in client.get("/subjects?deleted=true").json():
        paths += [f"/subjects/{subject}/versions", f"/subjects/{subject}/versions?deleted=true"]
        paths += [f"/config/{subject}", f"/mode/{subject}", f"/schemas/{subject}/versions"]
        for version in client.get(f"/subjects/{subject}/versions?deleted=true").json():
            paths += [
                f"/subjects/{subject}/versions/{version}?deleted=true",
                f"/subjects/{subject}/versions/{version}/schema?deleted=true",
                f"/subjects/{subject}/versions/{version}/referencedby",
            ]
    for schema_id in Schema.objects.values_list("pk", flat=True):
        paths += [
            f"/schemas/ids/{schema_id}",
            f"/schemas/ids/{schema_id}/versions",
            f"/schemas/ids/{schema_id}/subjects",
        ]
    for guid in Schema.objects.values_list("guid", flat=True):
        paths.append(f"/schemas/guids/{guid}")
    return {path: (response.status_code, response.content) for path in paths for response in [client.get(path)]}


def wipe_registry():
    """Leave an empty, migrated registry behind, as a new database would be."""
    for model in reversed(backup.exported_models()):
        model._default_manager.all().delete()
    forget_caches()


def test_export_then_import_reproduces_every_answer_and_id(api, writer, tmp_path):
    fill_registry(acting_user=writer)
    before = every_answer(api)
    assert any(path.startswith("/reviews/") for path in before), "the pending review is part of the comparison"
    rows_before = list(SubjectVersion.objects.order_by("pk").values_list("pk", "subject__name", "version", "schema_id"))
    risk_before = list(
        SubjectVersion.objects.filter(subject__tenant__slug="risk").values_list("subject__name", "schema_id")
    )
    archive = tmp_path / "registry.json.gz"

    call_command("export_registry", str(archive))
    wipe_registry()
    assert not Subject.objects.exists() and not Schema.objects.exists()
    call_command("import_registry", str(archive))

    after = every_answer(api)
    assert after.keys() == before.keys()
    differing = [path for path in before if before[path] != after[path]]
    assert differing == [], f"answers changed: {differing}"
    assert all(status == 200 for status, _ in after.values() if status != 404)
    assert (
        list(SubjectVersion.objects.order_by("pk").values_list("pk", "subject__name", "version", "schema_id"))
        == rows_before
    )
    assert (
        list(SubjectVersion.objects.filter(subject__tenant__slug="risk").values_list("subject__name", "schema_id"))
        == risk_before
    )
    assert SchemaReference.objects.count() == 1
    assert "read_schemas" in get_perms(writer, Tenant.objects.get(slug="risk"))
    # New registrations continue after the restored ids.
    highest = Schema.objects.order_by("-pk").values_list("pk", flat=True).first()
    assert register(api, "fresh-value", TICK_V1.replace("bid", "best_bid")).json()["id"] == highest + 1


def test_import_refuses_a_registry_that_holds_subjects(api, writer, tmp_path):
    fill_registry(acting_user=writer)
    archive = tmp_path / "registry.json"
    call_command("export_registry", str(archive))
    with pytest.raises(CommandError, match="not empty"):
        call_command("import_registry", str(archive))
