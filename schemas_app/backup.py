"""Backup and restore of the whole registry in one archive, keeping every id and version number.

`export_archive` writes every row of the registry's models (tenants, schemas, references,
subjects, versions, configs, modes and whatever governance models the app holds), the role
grants on them, and the names of the accounts they refer to. `import_archive` restores such an
archive into an empty registry: rows keep their primary keys, so schema ids, guids and version
numbers are the same and clients' cached ids stay valid; the id sequences then continue after the
highest restored id. Accounts named by the archive are created without a password when missing
(passwords and API tokens are secrets and never leave the registry this way).
"""

import datetime
import gzip
import json
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.cache import cache
from django.core.management.color import no_style
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from guardian.models import GroupObjectPermission, UserObjectPermission

from schemas_app import cache as registry_cache
from schemas_app import local_copies
from schemas_app.errors import OperationNotPermitted

FORMAT = "proto-schema-registry-backup"
FORMAT_VERSION = 1
# Apps whose every model is part of the registry's state.
EXPORTED_APPS = ("schemas_app",)
# Credentials stay behind: API tokens are re-issued after a restore (their digests are keyed with SECRET_KEY).
# The audit hash chain belongs to the audit log, which is not exported either.
NOT_EXPORTED = ("schemas_app.apitoken", "schemas_app.auditseal", "schemas_app.auditchainhead")


class ExactJSONEncoder(DjangoJSONEncoder):
    """Django's encoder, but times keep their microseconds (Django's rounds them to milliseconds)."""

    def default(self, o):
        if isinstance(o, datetime.datetime | datetime.time):
            return o.isoformat()
        return super().default(o)


@dataclass(frozen=True)
class ArchiveSummary:
    """How many rows of each model an archive holds, and how many role grants."""

    counts: dict[str, int]
    grants: int

    def __str__(self) -> str:
        rows = ", ".join(f"{count} {label}" for label, count in self.counts.items())
        return f"{rows}; {self.grants} role grants"


def exported_models() -> list:
    """Return the registry's models, each after the models it refers to."""
    models = [model for label in EXPORTED_APPS for model in apps.get_app_config(label).get_models()]
    ordered = serializers.sort_dependencies([(apps.get_app_config(label), None) for label in EXPORTED_APPS])
    return [model for model in ordered if model in models and model._meta.label_lower not in NOT_EXPORTED]


def _registry_content_types() -> list[ContentType]:
    return [ContentType.objects.get_for_model(model) for model in exported_models()]


def _grants() -> list[dict]:
    """Return the object permissions held on registry rows, by account or group name."""
    content_types = _registry_content_types()
    grants = []
    for row in UserObjectPermission.objects.filter(content_type__in=content_types).select_related(
        "user", "permission", "content_type"
    ):
        grants.append(_grant(row, user=row.user.get_username()))
    for row in GroupObjectPermission.objects.filter(content_type__in=content_types).select_related(
        "group", "permission", "content_type"
    ):
        grants.append(_grant(row, group=row.group.name))
    return grants


def _grant(row, **holder) -> dict:
    return {
        **holder,
        "permission": row.permission.codename,
        "model": f"{row.content_type.app_label}.{row.content_type.model}",
        "object_pk": row.object_pk,
    }


def build_archive() -> dict:
    """Return the registry's whole state as one JSON-ready document."""
    objects = []
    for model in exported_models():
        objects += serializers.serialize("python", model._default_manager.order_by("pk"), use_natural_foreign_keys=True)
    grants = _grants()
    users = sorted({grant["user"] for grant in grants if "user" in grant} | _usernames_referenced(objects))
    return {
        "format": FORMAT,
        "formatVersion": FORMAT_VERSION,
        "exportedAt": timezone.now().isoformat(),
        "counts": _counts(objects),
        "users": users,
        "groups": sorted({grant["group"] for grant in grants if "group" in grant}),
        "objects": objects,
        "grants": grants,
    }


def _usernames_referenced(objects: list[dict]) -> set[str]:
    """Return the user names that rows refer to (natural keys of user foreign keys)."""
    user_label = get_user_model()._meta.label_lower
    names = set()
    for item in objects:
        model = apps.get_model(item["model"])
        for field in model._meta.fields:
            if field.is_relation and field.related_model._meta.label_lower == user_label:
                value = item["fields"].get(field.name)
                if value:
                    names.add(value[0])
    return names


def _counts(objects: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in objects:
        counts[item["model"]] = counts.get(item["model"], 0) + 1
    return counts


def export_archive(path: Path) -> ArchiveSummary:
    """Write the registry to `path` (gzip-compressed when it ends in .gz) and return what it holds."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        # One snapshot: a registration during the export is either wholly in it or not at all.
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        archive = build_archive()
    text = json.dumps(archive, cls=ExactJSONEncoder, ensure_ascii=False, separators=(",", ":"))
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8") as handle:
        handle.write(text)
    return ArchiveSummary(archive["counts"], len(archive["grants"]))


def read_archive(path: Path) -> dict:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        archive = json.load(handle)
    if archive.get("format") != FORMAT or archive.get("formatVersion") != FORMAT_VERSION:
        raise OperationNotPermitted(f"{path} is not a registry archive of format {FORMAT} version {FORMAT_VERSION}")
    return archive


def registry_is_empty() -> bool:
    """Return True when no row of the registry's models exists (tenants created on first use aside)."""
    from schemas_app.models import Tenant

    return (
        not any(model._default_manager.exists() for model in exported_models() if model is not Tenant)
        and not Tenant.objects.filter(subjects__isnull=False).exists()
    )


@transaction.atomic
def import_archive(path: Path) -> ArchiveSummary:
    """Restore an archive into an empty registry with the same ids; 42205 when the registry holds data."""
    from schemas_app.models import Tenant

    archive = read_archive(path)
    if not registry_is_empty():
        raise OperationNotPermitted("The registry is not empty; restore into a freshly migrated database.")
    # Tenants made on first use (the default one) give way to the archive's, which keep their ids.
    Tenant.objects.all().delete()
    _create_accounts(archive["users"], archive["groups"])
    for restored in serializers.deserialize("python", archive["objects"], handle_forward_references=True):
        restored.save()
    _restore_grants(archive["grants"])
    _continue_sequences()
    transaction.on_commit(_forget_cached_lookups)
    return ArchiveSummary(archive["counts"], len(archive["grants"]))


def _create_accounts(usernames: list[str], group_names: list[str]) -> None:
    user_model = get_user_model()
    for name in usernames:
        if not user_model._default_manager.filter(**{user_model.USERNAME_FIELD: name}).exists():
            user = user_model(**{user_model.USERNAME_FIELD: name})
            user.set_unusable_password()
            user.save()
    for name in group_names:
        Group.objects.get_or_create(name=name)


def _restore_grants(grants: list[dict]) -> None:
    from guardian.shortcuts import assign_perm

    user_model = get_user_model()
    for grant in grants:
        model = apps.get_model(grant["model"])
        target = model._default_manager.get(pk=model._meta.pk.to_python(grant["object_pk"]))
        holder = (
            user_model._default_manager.get_by_natural_key(grant["user"])
            if "user" in grant
            else Group.objects.get(name=grant["group"])
        )
        assign_perm(f"{model._meta.app_label}.{grant['permission']}", holder, target)


def _continue_sequences() -> None:
    """Move every id sequence past the restored ids, so the next registration gets a new one."""
    statements = connection.ops.sequence_reset_sql(no_style(), exported_models())
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


def _forget_cached_lookups() -> None:
    """Drop cached lookups and tenant ids of whatever registry used this cache before the restore."""
    if hasattr(cache, "delete_pattern"):
        for pattern in ("schema:*", "version:*", "tenant:*"):
            cache.delete_pattern(pattern)
    else:
        cache.clear()
    registry_cache.clear_local()
    local_copies.announce(None)
