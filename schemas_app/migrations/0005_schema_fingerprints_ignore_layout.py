"""Recompute stored fingerprints as canonical.identity_fingerprint, which ignores layout.

Until now a schema's fingerprint was taken of its exact text, so the same schema
sent again with other whitespace missed its stored row. A row whose schema no
longer compiles keeps its old fingerprint, and of two stored texts that differ only
in layout the older keeps the new fingerprint (fingerprints are unique).
"""

import json

from django.db import migrations

from protoengine.canonical import identity_fingerprint
from protoengine.compiler import CompilationFailed, compile_one

# Any path will do: the file's own name is not part of its identity.
ROOT = "registry_migration_root.proto"


def _dependencies(apps, schema, seen=frozenset()) -> dict[str, str]:
    SchemaReference = apps.get_model("schemas_app", "SchemaReference")
    SubjectVersion = apps.get_model("schemas_app", "SubjectVersion")
    tenant_ids = SubjectVersion.objects.filter(schema=schema).values_list("subject__tenant_id", flat=True)
    sources = {}
    for reference in SchemaReference.objects.filter(schema=schema).order_by("position"):
        version = (
            SubjectVersion.objects.filter(
                subject__tenant_id__in=tenant_ids, subject__name=reference.subject, version=reference.version
            )
            .select_related("schema")
            .first()
        )
        if version is None or version.schema_id in seen:
            continue
        sources[reference.name] = version.schema.text
        sources.update(_dependencies(apps, version.schema, seen | {schema.pk}))
    return sources


def _identity(apps, schema) -> str | None:
    SchemaReference = apps.get_model("schemas_app", "SchemaReference")
    references = [
        (ref.name, ref.subject, ref.version)
        for ref in SchemaReference.objects.filter(schema=schema).order_by("position")
    ]
    extras = (
        json.dumps({"metadata": schema.metadata, "ruleSet": schema.rule_set}, sort_keys=True)
        if (schema.metadata or schema.rule_set)
        else ""
    )
    try:
        root = compile_one(ROOT, schema.text, _dependencies(apps, schema)).file(ROOT)
    except CompilationFailed:
        return None
    return identity_fingerprint(root, references, extras)


def forwards(apps, schema_editor):
    Schema = apps.get_model("schemas_app", "Schema")
    for schema in Schema.objects.order_by("id").iterator():
        fingerprint = _identity(apps, schema)
        if fingerprint is None or fingerprint == schema.fingerprint:
            continue
        if not Schema.objects.filter(fingerprint=fingerprint).exists():
            schema.fingerprint = fingerprint
            schema.save(update_fields=["fingerprint"])


class Migration(migrations.Migration):
    dependencies = [("schemas_app", "0004_bundled_groups")]

    # Backwards keeps the new fingerprints: the old code finds rows by exact text only, so it misses some, as before.
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
