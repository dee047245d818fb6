"""Recompute the identity fingerprints computed with comments: the comments are now hashed as bytes.

canonical.identity_fingerprint hashed a schema's comments as the JSON of Python lists ([path, leading,
trailing, *detached] of each commented location), read location by location through protobuf: about 11 of
its 14 ms on a large schema. It now hashes each commented location's path and comments as protobuf wrote
them, read in C code (canonical._documentation_digest). It tells the same schemas apart (any change of a
comment changes it, layout does not), under other digests. Every stored fingerprint computed with comments,
schemas' and pending reviews', is recomputed here; those computed without (a schema sent as a descriptor)
do not change. References resolve as the registry resolves them, in the tenant, else in a shared one (0019).
A text is compiled as a registration compiles it (a descriptor printed, leniently when protoc refuses it as
the CONFLUENT rule set accepts it) and, when the stored fingerprint is of its normalised form, normalised.
A row whose schema no longer compiles, or whose fingerprint is not the previous formula's (recomputed
already), keeps its own; of two rows that would share one, the older keeps it. Backwards does the reverse.
"""

import importlib

from django.db import migrations

from protoengine import canonical
from protoengine.compiler import CompilationFailed, compile_one
from protoengine.lenient import compile_leniently

_options = importlib.import_module("schemas_app.migrations.0017_identity_fingerprints_options_order")
_reviews = importlib.import_module("schemas_app.migrations.0018_review_fingerprints_options_order")
ROOT = _options.ROOT


def _before(file, references, extras) -> str:
    """The identity fingerprint with comments as 0017 to 0019 computed it: the comments as JSON lists."""
    descriptor, source_info = canonical.descriptor_and_source_info(file)
    documentation = canonical._documentation(file, source_info)
    return canonical._identity(canonical._descriptor_digest(file, descriptor), documentation, references, extras)


def _after(file, references, extras) -> str:
    """The identity fingerprint with comments from now on: the comments as bytes."""
    return canonical.identity_fingerprint(file, references, extras)


def _roots(text: str, dependencies):
    """Yield the schema's compiled root as it was sent, then normalised (the registry fingerprints either)."""
    try:
        text, compiled = canonical.compile_input(ROOT, text, dependencies)
    except CompilationFailed:
        try:
            compiled = compile_leniently(ROOT, text, dependencies).compiled
        except CompilationFailed:
            return
    yield compiled.file(ROOT)
    try:
        yield compile_one(ROOT, canonical.normalize_compiled(ROOT, compiled), dependencies).file(ROOT)
    except CompilationFailed:
        return


def rewritten(text: str, dependencies, references, extras: str, stored: str, formulas) -> str | None:
    """Return the fingerprint by `formulas`' second of a schema stored under their first; None when it was not."""
    was, becomes = formulas
    for root in _roots(text, dependencies):
        if stored == was(root, references, extras):
            return becomes(root, references, extras)
    return None


def _tenant_dependencies(apps, schema, references):
    """Yield the schema's dependencies as each tenant holding it resolves them (once, empty, when it imports none)."""
    if not references:
        yield {}
        return
    SubjectVersion = apps.get_model("schemas_app", "SubjectVersion")
    tenant_ids = (
        SubjectVersion.objects.filter(schema=schema)
        .order_by("subject__tenant_id")
        .values_list("subject__tenant_id", flat=True)
    )
    for tenant_id in dict.fromkeys(tenant_ids):
        yield _reviews._dependencies(apps, tenant_id, references)


def _rewrite_schemas(apps, formulas) -> None:
    Schema = apps.get_model("schemas_app", "Schema")
    SchemaReference = apps.get_model("schemas_app", "SchemaReference")
    for schema in Schema.objects.order_by("id").iterator():
        references = [
            (ref.name, ref.subject, ref.version)
            for ref in SchemaReference.objects.filter(schema=schema).order_by("position")
        ]
        extras = _options.extras_of(schema.metadata, schema.rule_set)
        for dependencies in _tenant_dependencies(apps, schema, references):
            fingerprint = rewritten(schema.text, dependencies, references, extras, schema.fingerprint, formulas)
            if fingerprint is None:
                continue
            if not Schema.objects.filter(fingerprint=fingerprint).exists():
                schema.fingerprint = fingerprint
                schema.save(update_fields=["fingerprint"])
            break


def _rewrite_pending_reviews(apps, formulas) -> None:
    ChangeRequest = apps.get_model("schemas_app", "ChangeRequest")
    for review in ChangeRequest.objects.filter(status=_reviews.PENDING).order_by("id").iterator():
        references = [(ref["name"], ref["subject"], ref["version"]) for ref in review.references or []]
        fingerprint = rewritten(
            review.schema_text,
            _reviews._dependencies(apps, review.tenant_id, references),
            references,
            _options.extras_of(review.metadata, review.rule_set),
            review.fingerprint,
            formulas,
        )
        if fingerprint is None:
            continue
        # One open review per proposal (constraint one_open_review_per_proposal): the older keeps it.
        taken = ChangeRequest.objects.filter(
            tenant_id=review.tenant_id,
            subject_name=review.subject_name,
            fingerprint=fingerprint,
            status=_reviews.PENDING,
        ).exists()
        if not taken:
            review.fingerprint = fingerprint
            review.save(update_fields=["fingerprint"])


def forwards(apps, schema_editor):
    _rewrite_schemas(apps, (_before, _after))
    _rewrite_pending_reviews(apps, (_before, _after))


def backwards(apps, schema_editor):
    _rewrite_schemas(apps, (_after, _before))
    _rewrite_pending_reviews(apps, (_after, _before))


class Migration(migrations.Migration):
    dependencies = [("schemas_app", "0019_schema_fingerprints_shared_references")]

    operations = [migrations.RunPython(forwards, backwards)]
