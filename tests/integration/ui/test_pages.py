"""The browser pages answer, escape what schemas and people wrote, and hide what the viewer may not read."""

import csv
import io
import json
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from schemas_app.models import ChangeRequest, ReviewComment, Tenant, TenantBinding
from schemas_app.services import subject_version_register, system_account

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
V1 = f"""syntax = "proto3";
package acme.v1;

// A tick. {SCRIPT}
message Tick {{
  // When, in milliseconds. {SCRIPT}
  int64 timestamp_ms = 1;
  string email = 2 [(registry.v1.pii) = true, (registry.v1.classification) = DATA_CLASSIFICATION_CONFIDENTIAL];
}}
"""
V2 = V1.replace("int64 timestamp_ms = 1;", "int64 timestamp_ms = 1;\n  double price = 3;")
OPTIONS_IMPORT = 'import "schemaregistry/options.proto";\n'


def register(tenant, name, text):
    from schemas_app.preparation import Reference

    return subject_version_register(
        tenant=tenant,
        subject_name=name,
        schema=text.replace("package acme.v1;\n", "package acme.v1;\n" + OPTIONS_IMPORT),
        references=[Reference("schemaregistry/options.proto", "schemaregistry/options.proto", 1)],
        acting_user=system_account(),
    )


@pytest.fixture
def default_tenant():
    return Tenant.objects.get_or_create(slug=Tenant.DEFAULT_SLUG, defaults={"name": "Default tenant"})[0]


@pytest.fixture
def schemas(default_tenant):
    options = Path("schemas/schemaregistry/options.proto").read_text()
    subject_version_register(
        tenant=default_tenant, subject_name="schemaregistry/options.proto", schema=options, acting_user=system_account()
    )
    name = f"acme/{SCRIPT}.proto"
    register(default_tenant, name, V1)
    register(default_tenant, name, V2)
    return name


def test_a_browser_asking_for_the_root_is_sent_to_the_catalogue_and_a_json_client_is_not(client):
    assert client.get("/", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")["Location"] == "/ui/"
    assert client.get("/", HTTP_ACCEPT="application/json").json()["service"] == "proto-schema-registry"
    assert client.get("/").status_code == 200


def test_an_anonymous_visitor_is_asked_to_log_in(client):
    response = client.get("/ui/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert b"Log in" in client.get("/accounts/login/").content


def test_script_in_a_comment_a_subject_name_and_a_review_comment_is_escaped_on_every_page(
    console, schemas, owner, default_tenant
):
    review = ChangeRequest.objects.create(
        tenant=default_tenant, subject_name=schemas, schema_text=V2, fingerprint="x" * 64, author=owner
    )
    ReviewComment.objects.create(change_request=review, author=owner, text=f"looks fine {SCRIPT}")
    from auditlog.models import LogEntry

    LogEntry.objects.log_create(
        review, action=LogEntry.Action.UPDATE, changes={"comment": ["", SCRIPT]}, force_log=True
    )
    quoted = schemas.replace("<", "%3C").replace(">", "%3E")
    pages = [
        "/ui/",
        "/ui/?q=Tick",
        f"/ui/subjects/{quoted}/",
        f"/ui/subjects/{quoted}/versions/1/",
        f"/ui/subjects/{quoted}/diff/?from=1&to=2",
        f"/ui/subjects/{quoted}/history/",
        "/ui/audit/",
        "/ui/pii/",
    ]
    for url in pages:
        response = console.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert "<script>alert" not in body, url
    subject_page = console.get(f"/ui/subjects/{quoted}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in subject_page
    assert "looks fine &lt;script&gt;alert(1)&lt;/script&gt;" in subject_page
    assert "pending review" in console.get("/ui/").content.decode()


def test_the_subject_page_documents_fields_with_their_pii_classification(console, schemas):
    body = console.get(f"/ui/subjects/{schemas.replace('<', '%3C').replace('>', '%3E')}/").content.decode()
    assert 'id="L1"' in body and 'href="#L1"' in body
    assert "timestamp_ms" in body and "CONFIDENTIAL" in body and 'class="badge pii"' in body
    assert "BACKWARD" in body and "Lint findings" in body


def test_the_diff_marks_the_added_line_and_names_the_bump(console, schemas):
    body = console.get(f"/ui/subjects/{schemas.replace('<', '%3C').replace('>', '%3E')}/diff/?from=1&to=2")
    html = body.content.decode()
    assert 'class="diff-added" data-changed="true"' in html and "price" in html
    assert 'class="bump">MINOR<' in html


def test_another_tenants_subject_answers_404(schemas, django_user_model):
    globex = Tenant.objects.create(slug="globex", name="Globex")
    stranger = django_user_model.objects.create_user("stranger", password="x")
    TenantBinding.objects.create(user=stranger, tenant=globex)
    client = Client()
    client.force_login(stranger)
    quoted = schemas.replace("<", "%3C").replace(">", "%3E")
    assert client.get(f"/ui/subjects/{quoted}/").status_code == 404
    assert client.get(f"/ui/subjects/{quoted}/diff/?from=1&to=2").status_code == 404
    assert client.get(f"/ui/subjects/{quoted}/history/").status_code == 404
    assert "acme/" not in client.get("/ui/").content.decode()
    assert client.get("/ui/pii/").content.decode().count("timestamp") == 0
    assert "email" not in client.get("/ui/pii/").content.decode()


def test_the_audit_view_is_for_auditors_and_exports_what_it_filters(schemas, django_user_model):
    reader = django_user_model.objects.create_user("reader", password="x")
    auditor = django_user_model.objects.create_user("auditor", password="x")
    auditor.user_permissions.add(Permission.objects.get(codename="read_audit", content_type__model="tenant"))
    client = Client()
    client.force_login(reader)
    assert client.get("/ui/audit/").status_code == 404
    client.force_login(auditor)
    assert client.get("/ui/audit/?actor=system").status_code == 200
    rows = list(csv.DictReader(io.StringIO(client.get("/ui/audit/?actor=nobody&export=csv").content.decode())))
    assert rows == []
    exported = client.get("/ui/audit/?tenant=default&action=create&export=json").json()
    assert exported and all(row["action"] == "create" for row in exported)
    assert any(SCRIPT in row["object"] for row in exported)
    assert json.loads(client.get("/ui/audit/?subject=options&export=json").content)


def test_the_pii_inventory_lists_classified_fields_and_exports_csv(console, schemas):
    rows = list(csv.DictReader(io.StringIO(console.get("/ui/pii/?export=csv").content.decode())))
    assert [(row["message"], row["field"], row["classification"]) for row in rows] == [
        ("acme.v1.Tick", "email", "CONFIDENTIAL")
    ]


@pytest.fixture
def acme():
    """A second tenant holding one subject, acme/only.proto."""
    tenant = Tenant.objects.create(slug="acme", name="Acme")
    subject_version_register(
        tenant=tenant,
        subject_name="acme/only.proto",
        schema='syntax = "proto3";\npackage acme.v1;\nmessage Only {\n  int64 id = 1;\n}\n',
        acting_user=system_account(),
    )
    return tenant


def test_an_auditor_of_one_tenant_sees_only_that_tenants_entries(schemas, acme, django_user_model):
    from django.contrib.auth.models import Group

    from schemas_app.access import grant_role

    auditor = django_user_model.objects.create_user("acme-auditor", password="x")
    group = Group.objects.create(name="acme auditors")
    auditor.groups.add(group)
    grant_role("audit", group=group, target=acme, acting_user=system_account())
    client = Client()
    client.force_login(auditor)
    objects = [row["object"] for row in client.get("/ui/audit/?export=json").json()]
    assert any("acme/only.proto" in name for name in objects)
    assert not any(SCRIPT in name for name in objects)


def test_an_auditor_holding_the_role_everywhere_audits_only_the_tenants_it_reads(schemas, acme, django_user_model):
    auditor = django_user_model.objects.create_user("acme-auditor", password="x")
    auditor.user_permissions.add(Permission.objects.get(codename="read_audit", content_type__model="tenant"))
    TenantBinding.objects.create(user=auditor, tenant=acme)  # it reads acme, not the default tenant
    client = Client()
    client.force_login(auditor)
    objects = [row["object"] for row in client.get("/ui/audit/?export=json").json()]
    assert any("acme/only.proto" in name for name in objects)
    assert not any(SCRIPT in name for name in objects)
