"""Recompute, as 0017 meant to, the identity fingerprints of schemas that import subjects of the shared tenant.

0017 resolved a schema's references only in the tenants whose versions hold it (0005's reading), so a schema
importing a shared subject (the bundled `common/` and `schemaregistry/` files live there) did not compile and kept
the fingerprint of protoc's order of its options: sent again, it was not found and got a new id and a new version.
References resolve here as the registry resolves them, in the tenant, else in a shared one. Fingerprints already
recomputed, or never affected, do not match the old digest and are left as they are.
"""

import importlib

from django.db import migrations

_options = importlib.import_module("schemas_app.migrations.0017_identity_fingerprints_options_order")
_reviews = importlib.import_module("schemas_app.migrations.0018_review_fingerprints_options_order")


def forwards(apps, schema_editor):
    Schema = apps.get_model("schemas_app", "Schema")
    SchemaReference = apps.get_model("schemas_app", "SchemaReference")
    SubjectVersion = apps.get_model("schemas_app", "SubjectVersion")
    for schema in Schema.objects.order_by("id").iterator():
        references = [
            (ref.name, ref.subject, ref.version)
            for ref in SchemaReference.objects.filter(schema=schema).order_by("position")
        ]
        if not references:
            continue  # 0017 compiled it
        tenant_ids = (
            SubjectVersion.objects.filter(schema=schema)
            .order_by("subject__tenant_id")
            .values_list("subject__tenant_id")
        )
        for tenant_id in dict.fromkeys(tenant_id for (tenant_id,) in tenant_ids):
            fingerprint = _options.upgraded(
                schema.text,
                _reviews._dependencies(apps, tenant_id, references),
                references,
                _options.extras_of(schema.metadata, schema.rule_set),
                schema.fingerprint,
            )
            if fingerprint is None:
                continue
            if fingerprint != schema.fingerprint and not Schema.objects.filter(fingerprint=fingerprint).exists():
                schema.fingerprint = fingerprint
                schema.save(update_fields=["fingerprint"])
            break


class Migration(migrations.Migration):
    dependencies = [("schemas_app", "0018_review_fingerprints_options_order")]

    # Backwards keeps the new fingerprints, which the old code computes too for options already in order.
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
