"""Glue between stored schemas and the Django-free protobuf engine: resolve references, compile, fingerprint."""

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, connections, router, transaction

from protoengine import canonical
from protoengine import lenient as lenient_compile
from protoengine.compiler import (
    CompilationFailed,
    CompiledFiles,
    compile_one,
    compiled_from_serialized,
    refuse_well_known,
)
from protoengine.lru import LruCache
from schemas_app.errors import InvalidSchema, SchemaHasTooManyFields, SchemaTooLarge
from schemas_app.models import CompiledSchema, Schema

_SAFE_PATH = re.compile(r"^[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*\.proto$")
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9_.\-/]+")
# Stored versions' compiled sets, with the model each keeps: the version a new one is compared with is
# usually the one compared with last time. Keyed by content, so a reused id never finds a stale set.
_STORED_SETS = LruCache(64)
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reference:
    """An import of a schema: `name` is the import path, pinned to `subject` at `version`."""

    name: str
    subject: str
    version: int

    def as_dict(self) -> dict:
        return {"name": self.name, "subject": self.subject, "version": self.version}


@dataclass
class PreparedSchema:
    """A schema ready to store: its final text, fingerprints and compiled files."""

    text: str
    # The content address it is stored under (canonical.identity_fingerprint_of).
    fingerprint: str
    canonical_fingerprint: str
    # Every stored fingerprint that is this same schema: its own, and for text, that of its descriptor form.
    same_schema_fingerprints: tuple[str, ...]
    # True when the client sent a descriptor or asked for normalisation: match existing schemas by meaning.
    match_by_meaning: bool
    root_path: str
    compiled: CompiledFiles
    references: list[Reference] = field(default_factory=list)
    dependencies: dict[str, str] = field(default_factory=dict)
    # Why protoc refuses a schema the CONFLUENT rule set accepted (lint findings of rule PROTOC_REFUSES).
    compile_findings: list = field(default_factory=list)

    @property
    def files(self):
        """Return the schema's own files (the root and its references, no well-known types)."""
        return self.compiled.own_files


def root_path_for(subject: str) -> str:
    """Return the import path a subject's schema compiles under: the subject itself when it is a .proto path."""
    if _SAFE_PATH.match(subject) and ".." not in subject.split("/"):
        return subject
    cleaned = _UNSAFE_CHARS.sub("_", subject).strip("/") or "schema"
    cleaned = "/".join(part for part in cleaned.split("/") if part not in ("", ".", ".."))
    return f"{cleaned}.proto"


def check_size(text: str) -> None:
    size = len(text.encode("utf-8"))
    limit = settings.REGISTRY_MAX_SCHEMA_BYTES
    if size > limit:
        raise SchemaTooLarge(size, limit)


def check_field_count(files) -> None:
    """Refuse a schema whose own files declare more fields than REGISTRY_MAX_SCHEMA_FIELDS (42209)."""
    limit = settings.REGISTRY_MAX_SCHEMA_FIELDS
    count = sum(_fields_in(message) for file in files for message in file.message_type)
    count += sum(len(file.extension) for file in files)
    if count > limit:
        raise SchemaHasTooManyFields(count, limit)


def _fields_in(message) -> int:
    return len(message.field) + len(message.extension) + sum(_fields_in(nested) for nested in message.nested_type)


def invalid_schema_from(error: CompilationFailed) -> InvalidSchema:
    """Turn protoc's structured errors into a 42201 answer that keeps file, line and column."""
    details = [finding.as_dict() for finding in error.errors]
    lines = "; ".join(finding.as_text() for finding in error.errors)
    return InvalidSchema(f"Invalid schema: {lines}", details=details)


def prepare_schema(
    *,
    subject: str,
    schema: str,
    references: list[Reference],
    dependencies: dict[str, str],
    normalize: bool,
    metadata=None,
    rule_set=None,
    lenient: bool = False,
) -> PreparedSchema:
    """Compile a schema given as .proto text or base64 descriptor, normalising it when asked.

    `lenient` (the CONFLUENT rule set) also accepts text that only Confluent's registry
    accepts (lenient.compile_leniently), with findings that say why protoc refuses it.
    """
    check_size(schema)
    root_path = root_path_for(subject)
    compile_findings: tuple = ()
    try:
        # The engine compiles a tree's own copy of a well-known file; a registry subject or reference never is one.
        refuse_well_known([root_path, *dependencies])
        try:
            text, compiled = canonical.compile_input(root_path, schema, dependencies)
        except CompilationFailed:
            if not lenient:
                raise
            text = schema
            relaxed = lenient_compile.compile_leniently(root_path, schema, dependencies)
            compiled, compile_findings = relaxed.compiled, relaxed.findings
        from_descriptor = text != schema
        normalized = canonical.normalize_compiled(root_path, compiled)
        if normalize:
            text = normalized
            compiled = compile_one(root_path, text, dependencies)
    except CompilationFailed as error:
        raise invalid_schema_from(error) from None
    check_field_count(compiled.own_files)
    reference_keys = [(ref.name, ref.subject, ref.version) for ref in references]
    extras = json.dumps({"metadata": metadata, "ruleSet": rule_set}, sort_keys=True) if (metadata or rule_set) else ""
    # A descriptor carries no comments, so its commented text is the same schema as far as anyone can tell.
    # Kept with the compiled set: a registration of texts just checked (or registered) computes neither again.
    with_comments, without_comments = canonical.identity_fingerprints_of(compiled, root_path, reference_keys, extras)
    fingerprint = without_comments if from_descriptor and not normalize else with_comments
    return PreparedSchema(
        text=text,
        fingerprint=fingerprint,
        canonical_fingerprint=canonical.fingerprint(normalized + extras, reference_keys),
        same_schema_fingerprints=tuple(dict.fromkeys([fingerprint, without_comments])),
        match_by_meaning=bool(normalize) or from_descriptor,
        root_path=root_path,
        compiled=compiled,
        references=list(references),
        dependencies=dict(dependencies),
        compile_findings=list(compile_findings),
    )


def compile_stored(
    *, subject: str, text: str, dependencies: dict[str, str], schema_id: int | None = None
) -> CompiledFiles:
    """Compile a schema that is already stored (it compiled once, so a failure is a server error).

    A schema the CONFLUENT rule set accepted leniently compiles the same way again. protoc's output stored for it
    (CompiledSchema) is read instead of running protoc when this process has not compiled it; given the schema's
    id, a compile that finds none stores its own (a schema registered before sets were stored). The compiled set
    is kept (with its model) for the next check against the same version.
    """
    root_path = root_path_for(subject)
    key = content_key(root_path, text, dependencies)
    compiled = _STORED_SETS.get(key)
    if compiled is None:
        serialized = _stored_output(key)
        if serialized is not None:
            compiled = compiled_from_serialized(serialized, roots=(root_path,), given={root_path, *dependencies})
        else:
            compiled = lenient_compile.compile_leniently(root_path, text, dependencies).compiled
            if schema_id is not None:
                _store_output(key, schema_id, compiled.serialized)
        _STORED_SETS.put(key, compiled)
    return compiled


def _stored_output(key: str) -> bytes | None:
    with connections[router.db_for_read(CompiledSchema)].cursor() as cursor:
        cursor.execute(f"SELECT descriptor_set FROM {CompiledSchema._meta.db_table} WHERE key = %s", [key])
        row = cursor.fetchone()
    return None if row is None else bytes(row[0])


def _store_output(key: str, schema_id: int, serialized: bytes) -> None:
    """Store a stored schema's compiled set, in a savepoint: the set can be compiled again, the caller's work not."""
    database = router.db_for_write(CompiledSchema)
    try:
        with transaction.atomic(using=database), connections[database].cursor() as cursor:
            cursor.execute(*_output_insert(key, serialized, "id = %s", [schema_id]))
    except DatabaseError:  # the schema was purged meanwhile, or the database refuses writes
        logger.warning("Could not store the compiled set of schema %s", schema_id, exc_info=True)


def stored_output_statement(prepared: PreparedSchema) -> tuple[str, list]:
    """Return the INSERT that stores a new schema's compiled set, for the schema row of its fingerprint.

    Run after the schema's own INSERT; a set stored already (the same content registered again) is kept. This
    process keeps the set too: the next version's check compares with it, reading neither the database nor protoc.
    """
    key = content_key(prepared.root_path, prepared.text, prepared.dependencies)
    _STORED_SETS.put(key, prepared.compiled)
    return _output_insert(key, prepared.compiled.serialized, "fingerprint = %s", [prepared.fingerprint])


def _output_insert(key: str, serialized: bytes, schema_condition: str, params: list) -> tuple[str, list]:
    """Return the INSERT of a compiled set for the schema row the condition finds; one stored already is kept."""
    return (
        f"INSERT INTO {CompiledSchema._meta.db_table} (key, schema_id, descriptor_set)"
        f" SELECT %s, id, %s FROM {Schema._meta.db_table} WHERE {schema_condition} ON CONFLICT (key) DO NOTHING",
        [key, serialized, *params],
    )


def content_key(root_path: str, text: str, dependencies: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for path, content in [(root_path, text), *sorted(dependencies.items())]:
        digest.update(f"{len(path)}:{path}{len(content)}:".encode())
        digest.update(content.encode("utf-8") if isinstance(content, str) else content)
    return digest.hexdigest()
