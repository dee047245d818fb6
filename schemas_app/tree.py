"""Register a tree of .proto files (the bundled catalogue, or a checkout) in dependency order, with references."""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from protoengine.compiler import compile_sources, own_imports
from schemas_app import deploy, selectors, services
from schemas_app.deploy import in_shared_folder
from schemas_app.errors import RegistryError
from schemas_app.models import Tenant
from schemas_app.preparation import Reference


@dataclass
class TreeResult:
    path: str
    schema_id: int | None
    version: int | None
    semantic_version: str | None
    created: bool
    error: str | None = None


def dependency_order(sources: Mapping[str, str]) -> list[tuple[str, tuple[str, ...]]]:
    """Compile the tree once and return (path, imports) with every file after the files it imports."""
    return [(file.name, own_imports(file)) for file in compile_sources(sources).subject_files]


def is_bundled(root: Path) -> bool:
    """Return True for the bundled catalogue (REGISTRY_SCHEMAS_DIR), however the folder was written."""
    return deploy.is_bundled(root, settings.REGISTRY_SCHEMAS_DIR)


def tree_register(
    *, tenant: Tenant, sources: Mapping[str, str], acting_user, shared_folders: Collection[str] = ()
) -> list[TreeResult]:
    """Register each file under a subject named by its import path, referencing the versions just registered.

    Files under `shared_folders` go to the shared tenant, the rest to `tenant`, whose files reference the
    shared ones as they reference their own (a tenant reads the shared subjects).
    """
    shared = selectors.shared_tenant() if shared_folders else None
    results: list[TreeResult] = []
    registered: dict[str, int] = {}
    for path, imports in dependency_order(sources):
        missing = [name for name in imports if name not in registered]
        if missing:
            results.append(
                TreeResult(path, None, None, None, False, f"not registered because {', '.join(missing)} failed")
            )
            continue
        references = [Reference(name=name, subject=name, version=registered[name]) for name in imports]
        try:
            registration = services.subject_version_register(
                tenant=shared if in_shared_folder(path, shared_folders) else tenant,
                subject_name=path,
                schema=sources[path],
                references=references,
                acting_user=acting_user,
            )
        except RegistryError as error:
            results.append(TreeResult(path, None, None, None, False, error.message))
            continue
        if registration.change_request is not None:
            results.append(
                TreeResult(path, None, None, None, False, f"held for review #{registration.change_request.pk}")
            )
            continue
        version = registration.subject_version
        registered[path] = version.version
        results.append(
            TreeResult(path, version.schema_id, version.version, version.semantic_version, registration.created)
        )
    return results
