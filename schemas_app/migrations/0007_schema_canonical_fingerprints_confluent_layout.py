"""Recompute canonical fingerprints now that normalised text follows Confluent's layout.

`canonical_fingerprint` is taken of the normalised text, whose layout changed, so
without this a stored schema would no longer be found by `normalize=true` or by a
descriptor. Stored texts are left as they were registered.
"""

import importlib
import json

from django.db import migrations

from protoengine.canonical import fingerprint, normalize
from protoengine.compiler import CompilationFailed

identity_migration = importlib.import_module("schemas_app.migrations.0005_schema_fingerprints_ignore_layout")


def forwards(apps, schema_editor):
    Schema = apps.get_model("schemas_app", "Schema")
    SchemaReference = apps.get_model("schemas_app", "SchemaReference")
    for schema in Schema.objects.order_by("id").iterator():
        references = [
            (ref.name, ref.subject, ref.version)
            for ref in SchemaReference.objects.filter(schema=schema).order_by("position")
        ]
        extras = (
            json.dumps({"metadata": schema.metadata, "ruleSet": schema.rule_set}, sort_keys=True)
            if (schema.metadata or schema.rule_set)
            else ""
        )
        root = identity_migration.ROOT
        try:
            normalized = normalize(root, schema.text, identity_migration._dependencies(apps, schema))
        except CompilationFailed:
            continue
        canonical = fingerprint(normalized + extras, references)
        if canonical != schema.canonical_fingerprint:
            schema.canonical_fingerprint = canonical
            schema.save(update_fields=["canonical_fingerprint"])


class Migration(migrations.Migration):
    dependencies = [("schemas_app", "0006_governance_reviews")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
