"""Between generated message classes and the registry: schema text of a file, registration with references,
and the message type a schema id and index path name."""

import base64
import threading

from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import FileDescriptor

from registry_client.client import RegistryClient, Schema, SchemaReference
from registry_client.errors import SerializationError


def is_well_known(import_path: str) -> bool:
    """Return True for files every protobuf runtime ships (never registered, as confluent-kafka skips them)."""
    return import_path.startswith(("google/protobuf/", "google/type/", "confluent/"))


def file_schema(file: FileDescriptor, references=()) -> Schema:
    """Return the schema of a .proto file as confluent-kafka sends it: its base64 FileDescriptorProto."""
    return Schema(base64.standard_b64encode(file.serialized_pb).decode("ascii"), "PROTOBUF", tuple(references))


def reference_subject_name_strategy(ctx, file: FileDescriptor) -> str:
    """Register an imported file under its import path (confluent-kafka's default)."""
    return file.name


class Registration:
    """Register (or look up) a file and its imports, depth first, remembering what was done per subject."""

    def __init__(
        self,
        client: RegistryClient,
        *,
        auto_register: bool = True,
        normalize: bool = False,
        skip_known_types: bool = True,
        reference_subject_name_strategy=reference_subject_name_strategy,
    ):
        self.client = client
        self.auto_register = auto_register
        self.normalize = normalize
        self.skip_known_types = skip_known_types
        self.reference_strategy = reference_subject_name_strategy
        self._ids: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def schema_id(self, ctx, subject: str, file: FileDescriptor) -> int:
        """Return the id of `file` under `subject`, registering it and its imports when auto-registering."""
        key = (subject, file.name)
        found = self._ids.get(key)
        if found is not None:
            return found
        with self._lock:
            found = self._ids.get(key)
            if found is None:
                schema = file_schema(file, self._references(ctx, file))
                if self.auto_register:
                    found = self.client.register_schema(subject, schema, self.normalize)
                else:
                    found = self.client.lookup_schema(subject, schema, self.normalize).schema_id
                self._ids[key] = found
        return found

    def _references(self, ctx, file: FileDescriptor) -> list[SchemaReference]:
        references = []
        for dependency in file.dependencies:
            if self.skip_known_types and is_well_known(dependency.name):
                continue
            subject = self.reference_strategy(ctx, dependency)
            schema = file_schema(dependency, self._references(ctx, dependency))
            if self.auto_register:
                self.client.register_schema(subject, schema, self.normalize)
            version = self.client.lookup_schema(subject, schema, self.normalize).version
            references.append(SchemaReference(dependency.name, subject, version))
        return references


class WriterSchemas:
    """Name the message type a (schema id, message indexes) pair points at, reading each schema once."""

    def __init__(self, client: RegistryClient):
        self.client = client
        self._names: dict[tuple[int, tuple[int, ...]], str] = {}

        self._all_names: dict[int, frozenset[str]] = {}

    def _file(self, schema_id: int) -> descriptor_pb2.FileDescriptorProto:
        serialized = self.client.get_schema(schema_id, fmt="serialized").schema_str
        return descriptor_pb2.FileDescriptorProto.FromString(base64.b64decode(serialized))

    def message_name(self, schema_id: int, indexes: tuple[int, ...]) -> str:
        key = (schema_id, indexes)
        found = self._names.get(key)
        if found is None:
            found = self._names[key] = _message_at(self._file(schema_id), indexes, schema_id)
        return found

    def message_names(self, schema_id: int) -> frozenset[str]:
        """Return the full names of every message (nested ones too) the schema's file declares."""
        found = self._all_names.get(schema_id)
        if found is None:
            file = self._file(schema_id)
            found = self._all_names[schema_id] = frozenset(_all_messages(file.package, file.message_type))
        return found


def _message_at(file: descriptor_pb2.FileDescriptorProto, indexes: tuple[int, ...], schema_id: int) -> str:
    messages, name = file.message_type, file.package
    for index in indexes:
        if not 0 <= index < len(messages):
            raise SerializationError(f"Message index {list(indexes)} is out of range in schema {schema_id}")
        message = messages[index]
        name = f"{name}.{message.name}" if name else message.name
        messages = message.nested_type
    return name


def _all_messages(prefix: str, messages) -> list[str]:
    names = []
    for message in messages:
        name = f"{prefix}.{message.name}" if prefix else message.name
        names += [name, *_all_messages(name, message.nested_type)]
    return names
