"""A tenant's own subjects that shadow a shared subject of the same name: listing them, and retiring them safely.

Deploys made before `deploy_schemas` placed the bundled catalogue's `common/` files in the shared tenant
registered them into the deploying account's tenant. Such a private copy wins over the shared subject (a
tenant's own subject always does), so later deploys' changes to the shared files never reach that tenant.

Retiring a copy soft-deletes it through the audited write, after which lookups through the tenant find the
shared subject. It is refused, unless forced, when that would change what anyone reads:
- the shared subject does not hold the content of one of its live versions, or
- another live version of the tenant references one of its versions by number, and the shared subject's
  version of that number has other content (or none): the reference would then read something else.
Content is compared by identity fingerprint (descriptor, comments and references) without the metadata, so
the git commit a deploy records does not make two deploys of the same file differ.
"""

from dataclasses import dataclass

from protoengine import canonical
from schemas_app import access, selectors, services
from schemas_app.auditing import audited
from schemas_app.errors import NotAPrivateCopy, PrivateCopyKept
from schemas_app.models import SchemaReference, Subject, SubjectVersion, Tenant
from schemas_app.preparation import root_path_for


@dataclass(frozen=True)
class PrivateCopy:
    """A tenant's subject shadowing a shared one, and what retiring it would change."""

    tenant: str
    subject: str
    versions: list[int]
    latest_equals_shared: bool
    # Live versions whose content no version of the shared subject has.
    unheld_versions: list[int]
    # (referencing subject, its version, the version it references) whose reference would read other content.
    moved_references: list[tuple[str, int, int]]

    def refusals(self) -> list[str]:
        """Return why retiring the copy would change what is read; empty when it is safe."""
        reasons = []
        if self.unheld_versions:
            numbers = ", ".join(map(str, self.unheld_versions))
            reasons.append(f"the shared subject does not hold the content of its version {numbers}")
        if self.moved_references:
            referencing = ", ".join(
                f"{subject} version {version} (to version {referenced})"
                for subject, version, referenced in self.moved_references
            )
            reasons.append(f"referenced by {referencing}, which the shared subject holds with other content")
        return reasons

    def as_dict(self) -> dict:
        return {
            "tenant": self.tenant,
            "subject": self.subject,
            "versions": self.versions,
            "latestEqualsShared": self.latest_equals_shared,
            "retirable": not self.refusals(),
            "refusals": self.refusals(),
        }


def private_copy_list(*, viewer) -> list[PrivateCopy]:
    """Return the private copies in the tenants the viewer may read, by tenant and subject.

    Each copy's versions are compiled to compare their content: copies are few (the shared catalogue's files).
    """
    tenants = access.readable_tenants(viewer).filter(shared=False)
    shared_names = Subject.objects.filter(tenant__shared=True, versions__deleted=False).values("name")
    copies = (
        Subject.objects.filter(tenant__in=tenants, name__in=shared_names, versions__deleted=False)
        .select_related("tenant")
        .distinct()
        .order_by("tenant__slug", "name")
    )
    return [found for found in (private_copy_of(subject) for subject in copies) if found is not None]


def private_copy_of(subject: Subject) -> PrivateCopy | None:
    """Return the subject as a private copy of the shared subject of its name; None when it is not one."""
    shared = Subject.objects.filter(tenant__shared=True, name=subject.name).order_by("tenant__slug").first()
    if subject.tenant.shared or shared is None:
        return None
    own = list(subject.versions.select_related("schema", "subject__tenant").order_by("version"))
    theirs = list(shared.versions.filter(deleted=False).select_related("schema", "subject__tenant").order_by("version"))
    live = [version for version in own if not version.deleted]
    if not live or not theirs:
        return None
    content = _ContentFingerprints()
    shared_content = {version.version: content(version) for version in theirs}
    own_content = {version.version: content(version) for version in own}
    return PrivateCopy(
        tenant=subject.tenant.slug,
        subject=subject.name,
        versions=[version.version for version in live],
        latest_equals_shared=own_content[live[-1].version] == shared_content[theirs[-1].version],
        unheld_versions=[
            version.version for version in live if own_content[version.version] not in shared_content.values()
        ],
        moved_references=[
            (name, number, referenced)
            for name, number, referenced in _references_to(subject, list(own_content))
            if shared_content.get(referenced) != own_content[referenced]
        ],
    )


def _references_to(subject: Subject, numbers: list[int]) -> list[tuple[str, int, int]]:
    """Return (subject, version, referenced version) of the tenant's other live versions referencing the subject."""
    referenced = dict(
        SchemaReference.objects.filter(subject=subject.name, version__in=numbers).values_list("schema_id", "version")
    )
    referencing = (
        SubjectVersion.objects.filter(subject__tenant_id=subject.tenant_id, deleted=False, schema_id__in=referenced)
        .exclude(subject=subject)
        .order_by("subject__name", "version")
        .values_list("subject__name", "version", "schema_id")
    )
    return [(name, number, referenced[schema_id]) for name, number, schema_id in referencing]


class _ContentFingerprints:
    """Identity fingerprints of stored versions without their metadata, each schema computed once."""

    def __init__(self):
        self._by_schema: dict[tuple[int, int], str] = {}

    def __call__(self, version: SubjectVersion) -> str:
        # References resolve in the version's own tenant, so the same schema id may compile differently elsewhere.
        key = (version.schema_id, version.subject.tenant_id)
        if key not in self._by_schema:
            compiled = selectors.compiled_version_files(tenant=version.subject.tenant, version=version)
            references = [(ref.name, ref.subject, ref.version) for ref in selectors.schema_references(version.schema)]
            root_path = root_path_for(version.subject.name)
            self._by_schema[key] = canonical.identity_fingerprint_of(compiled, root_path, references)
        return self._by_schema[key]


@audited
def private_copy_retire(*, tenant: Tenant, subject_name: str, force: bool = False, acting_user) -> list[int]:
    """Soft-delete a tenant's private copy of a shared subject, unless that changes what is read (or `force`).

    Return the version numbers deleted. 40421 when the subject is no private copy, 42221 naming why it is kept.
    """
    services.refuse_in_read_only(tenant, subject_name)
    subject = Subject.objects.select_for_update().filter(tenant=tenant, name=subject_name).first()
    copy = private_copy_of(subject) if subject is not None else None
    if copy is None:
        raise NotAPrivateCopy(subject_name, tenant.slug)
    reasons = copy.refusals()
    if reasons and not force:
        raise PrivateCopyKept(subject_name, tenant.slug, "; ".join(reasons), details=reasons)
    live = list(subject.versions.filter(deleted=False).order_by("version"))
    return services.soft_delete_live_versions(tenant, subject, live, acting_user=acting_user)
