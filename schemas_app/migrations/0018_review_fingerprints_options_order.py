"""Recompute the fingerprints of pending reviews whose custom options were written out of field-number order.

0017 gave stored schemas the identity fingerprint that puts options in field-number order, but a pending
change request keeps the fingerprint its proposal was given, and a proposal sent again is matched with its
open review by that fingerprint: sent after the upgrade, it found none and opened a second review of the same
change. The fingerprints of pending reviews are recomputed here the way 0017 recomputed the schemas'. A review
whose schema no longer compiles, or whose new fingerprint another open review of its subject holds, keeps its own.
"""

import importlib

from django.db import migrations
from django.db.models import Q

_options = importlib.import_module("schemas_app.migrations.0017_identity_fingerprints_options_order")

PENDING = "PENDING_REVIEW"


def _referenced_version(apps, tenant_id: int, subject: str, version: int):
    """Return the version a reference pins: its subject in the tenant, else in a shared tenant (as the registry)."""
    SubjectVersion = apps.get_model("schemas_app", "SubjectVersion")
    in_scope = Q(subject__tenant_id=tenant_id) | Q(subject__tenant__shared=True)
    return (
        SubjectVersion.objects.filter(in_scope, subject__name=subject, version=version)
        .select_related("schema")
        .order_by("subject__tenant__shared")
        .first()
    )


def _dependencies(apps, tenant_id: int, references, seen=frozenset()) -> dict[str, str]:
    """Return {import path: text} of the references and, recursively, of theirs."""
    SchemaReference = apps.get_model("schemas_app", "SchemaReference")
    sources = {}
    for name, subject, version in references:
        found = _referenced_version(apps, tenant_id, subject, version)
        if found is None or found.schema_id in seen:
            continue
        sources[name] = found.schema.text
        imports = SchemaReference.objects.filter(schema_id=found.schema_id).order_by("position")
        nested = [(ref.name, ref.subject, ref.version) for ref in imports]
        sources.update(_dependencies(apps, tenant_id, nested, seen | {found.schema_id}))
    return sources


def forwards(apps, schema_editor):
    ChangeRequest = apps.get_model("schemas_app", "ChangeRequest")
    for review in ChangeRequest.objects.filter(status=PENDING).order_by("id").iterator():
        references = [(ref["name"], ref["subject"], ref["version"]) for ref in review.references or []]
        fingerprint = _options.upgraded(
            review.schema_text,
            _dependencies(apps, review.tenant_id, references),
            references,
            _options.extras_of(review.metadata, review.rule_set),
            review.fingerprint,
        )
        if fingerprint in (None, review.fingerprint):
            continue
        # One open review per proposal (constraint one_open_review_per_proposal): the older keeps it.
        taken = ChangeRequest.objects.filter(
            tenant_id=review.tenant_id, subject_name=review.subject_name, fingerprint=fingerprint, status=PENDING
        ).exists()
        if not taken:
            review.fingerprint = fingerprint
            review.save(update_fields=["fingerprint"])


class Migration(migrations.Migration):
    dependencies = [("schemas_app", "0017_identity_fingerprints_options_order")]

    # Backwards keeps the new fingerprints, which the old code computes too for options already in order.
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
