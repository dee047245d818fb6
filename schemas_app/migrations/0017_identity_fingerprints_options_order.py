"""Recompute the identity fingerprints of schemas whose custom options were written out of field-number order.

canonical.identity_fingerprint now puts every options message's fields in field-number order, so that the
digest no longer depends on whether the computing process had imported generated code declaring the options
(which reorders them). Schemas whose options were already in that order, nearly all, keep their fingerprint;
the others were stored with the digest of protoc's order and get the new one here, with comments or without,
as they were stored. A row whose schema no longer compiles keeps its fingerprint.
"""

import hashlib
import importlib
import json

from django.db import migrations

from protoengine import canonical
from protoengine.compiler import CompilationFailed, compile_one

_layout = importlib.import_module("schemas_app.migrations.0005_schema_fingerprints_ignore_layout")
ROOT = _layout.ROOT


def _before(file, references, extras, comments) -> str:
    """The identity fingerprint as 0005 to 0016 computed it: the descriptor's bytes in protoc's order."""
    bare = type(file)()
    bare.CopyFrom(file)
    bare.ClearField("source_code_info")
    bare.ClearField("name")
    identity = [
        hashlib.sha256(bare.SerializeToString(deterministic=True)).hexdigest(),
        canonical._documentation(file) if comments else "comments unknown",
        [[name, subject, int(version)] for name, subject, version in references],
        extras,
    ]
    return hashlib.sha256(canonical._json(identity).encode("utf-8")).hexdigest()


def extras_of(metadata, rule_set) -> str:
    """Return the metadata and rule set as the identity fingerprint includes them ("" when neither is set)."""
    return json.dumps({"metadata": metadata, "ruleSet": rule_set}, sort_keys=True) if (metadata or rule_set) else ""


def upgraded(text: str, dependencies, references, extras: str, stored: str) -> str | None:
    """Return the current identity fingerprint of a schema stored under the old one; None when it was not.

    The fingerprint keeps what it was computed with, comments or without. None too when the text no longer compiles.
    """
    try:
        root = compile_one(ROOT, text, dependencies).file(ROOT)
    except CompilationFailed:
        return None
    for comments in (True, False):
        if stored == _before(root, references, extras, comments):
            return canonical.identity_fingerprint(root, references, extras, comments=comments)
    return None


def forwards(apps, schema_editor):
    Schema = apps.get_model("schemas_app", "Schema")
    SchemaReference = apps.get_model("schemas_app", "SchemaReference")
    for schema in Schema.objects.order_by("id").iterator():
        references = [
            (ref.name, ref.subject, ref.version)
            for ref in SchemaReference.objects.filter(schema=schema).order_by("position")
        ]
        fingerprint = upgraded(
            schema.text,
            _layout._dependencies(apps, schema),
            references,
            extras_of(schema.metadata, schema.rule_set),
            schema.fingerprint,
        )
        if (
            fingerprint not in (None, schema.fingerprint)
            and not Schema.objects.filter(fingerprint=fingerprint).exists()
        ):
            schema.fingerprint = fingerprint
            schema.save(update_fields=["fingerprint"])


class Migration(migrations.Migration):
    dependencies = [("schemas_app", "0016_console_view_permissions")]

    # Backwards keeps the new fingerprints, which the old code computes too for options already in order.
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
