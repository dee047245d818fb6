"""Documentation of a compiled file: its messages, enums and services with their comments, as plain data.

The browser's schema pages render this; it is plain dataclasses so that it can be cached and tested
without Django. Types are named by their full name (no leading dot), and each names the file that
declares it, so that pages can link between files.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from google.protobuf.descriptor_pb2 import FieldDescriptorProto, FileDescriptorProto

from protoengine.lint.governance import field_governance_options
from protoengine.locations import (
    ENUM_VALUE,
    FILE_ENUM_TYPE,
    FILE_MESSAGE_TYPE,
    FILE_SERVICE,
    MESSAGE_ENUM_TYPE,
    MESSAGE_FIELD,
    MESSAGE_NESTED_TYPE,
    SERVICE_METHOD,
)

CLASSIFICATIONS = {
    0: "UNSPECIFIED",
    1: "PUBLIC",
    2: "INTERNAL",
    3: "CONFIDENTIAL",
    4: "RESTRICTED",
}
_SCALARS = {
    value: name.removeprefix("TYPE_").lower()
    for name, value in FieldDescriptorProto.Type.items()
    if name not in ("TYPE_MESSAGE", "TYPE_ENUM", "TYPE_GROUP")
}
_LABELS = {FieldDescriptorProto.LABEL_REPEATED: "repeated", FieldDescriptorProto.LABEL_REQUIRED: "required"}


@dataclass(frozen=True)
class FieldDoc:
    number: int
    name: str
    type_name: str  # a scalar ("int64") or a full type name ("trading.v1.TickData")
    is_scalar: bool
    label: str  # "", "optional", "repeated", "required"
    comment: str
    line: int
    pii: bool
    classification: str  # "" when unset
    map_entry: bool = False


@dataclass(frozen=True)
class EnumDoc:
    full_name: str
    comment: str
    line: int
    values: tuple[tuple[str, int, str], ...]  # (name, number, comment)


@dataclass(frozen=True)
class MessageDoc:
    full_name: str
    comment: str
    line: int
    fields: tuple[FieldDoc, ...]


@dataclass(frozen=True)
class MethodDoc:
    name: str
    input_type: str
    output_type: str
    client_streaming: bool
    server_streaming: bool
    comment: str
    line: int


@dataclass(frozen=True)
class ServiceDoc:
    full_name: str
    comment: str
    line: int
    methods: tuple[MethodDoc, ...]


@dataclass(frozen=True)
class FileDoc:
    path: str
    package: str
    comment: str
    imports: tuple[str, ...]
    messages: tuple[MessageDoc, ...]
    enums: tuple[EnumDoc, ...]
    services: tuple[ServiceDoc, ...]
    # Every type this file may name, mapped to the import path of the file declaring it.
    declared_in: dict[str, str] = field(default_factory=dict)

    def pii_fields(self) -> list[tuple[MessageDoc, FieldDoc]]:
        return [(message, f) for message in self.messages for f in message.fields if f.pii or f.classification]


def document(file: FileDescriptorProto, dependencies: Sequence[FileDescriptorProto] = ()) -> FileDoc:
    """Return the documentation of one compiled file; `dependencies` tell where imported types live."""
    comments = {
        tuple(location.path): (location.leading_comments.strip(), location.span[0] + 1 if location.span else 0)
        for location in file.source_code_info.location
    }
    prefix = f"{file.package}." if file.package else ""
    messages: list[MessageDoc] = []
    enums: list[EnumDoc] = []
    for index, message in enumerate(file.message_type):
        _collect_message(message, (FILE_MESSAGE_TYPE, index), prefix, comments, messages, enums)
    for index, enum in enumerate(file.enum_type):
        enums.append(_enum_doc(enum, (FILE_ENUM_TYPE, index), prefix, comments))
    services = tuple(
        _service_doc(service, (FILE_SERVICE, i), prefix, comments) for i, service in enumerate(file.service)
    )
    declared_in = {}
    for other in (*dependencies, file):
        for name in declared_names(other):
            declared_in[name] = other.name
    comment, _ = _comment(comments, (12,))  # the syntax statement carries the file's leading comment
    return FileDoc(
        path=file.name,
        package=file.package,
        comment=comment,
        imports=tuple(file.dependency),
        messages=tuple(messages),
        enums=tuple(enums),
        services=services,
        declared_in=declared_in,
    )


def declared_names(file: FileDescriptorProto) -> list[str]:
    """Return the full names of every message and enum a file declares, nested ones included."""
    prefix = f"{file.package}." if file.package else ""
    names = [f"{prefix}{enum.name}" for enum in file.enum_type]

    def walk(message, outer):
        name = f"{outer}{message.name}"
        names.append(name)
        names.extend(f"{name}.{enum.name}" for enum in message.enum_type)
        for nested in message.nested_type:
            walk(nested, f"{name}.")

    for message in file.message_type:
        walk(message, prefix)
    return names


def _comment(comments, path) -> tuple[str, int]:
    return comments.get(tuple(path), ("", 0))


def _collect_message(message, path, outer, comments, messages, enums) -> None:
    full_name = f"{outer}{message.name}"
    map_entry = message.options.map_entry
    if not map_entry:
        comment, line = _comment(comments, path)
        fields = tuple(_field_doc(f, (*path, MESSAGE_FIELD, i), comments) for i, f in enumerate(message.field))
        messages.append(MessageDoc(full_name=full_name, comment=comment, line=line, fields=fields))
    for index, nested in enumerate(message.nested_type):
        _collect_message(nested, (*path, MESSAGE_NESTED_TYPE, index), f"{full_name}.", comments, messages, enums)
    for index, enum in enumerate(message.enum_type):
        enums.append(_enum_doc(enum, (*path, MESSAGE_ENUM_TYPE, index), f"{full_name}.", comments))


def _field_doc(proto: FieldDescriptorProto, path, comments) -> FieldDoc:
    comment, line = _comment(comments, path)
    pii, classification = field_governance_options(proto)
    is_scalar = proto.type in _SCALARS
    label = _LABELS.get(proto.label, "optional" if proto.proto3_optional else "")
    return FieldDoc(
        number=proto.number,
        name=proto.name,
        type_name=_SCALARS[proto.type] if is_scalar else proto.type_name.lstrip("."),
        is_scalar=is_scalar,
        label=label,
        comment=comment,
        line=line,
        pii=pii == 1,
        classification=CLASSIFICATIONS.get(classification, str(classification)) if classification else "",
    )


def _enum_doc(enum, path, outer, comments) -> EnumDoc:
    comment, line = _comment(comments, path)
    values = tuple(
        (value.name, value.number, _comment(comments, (*path, ENUM_VALUE, i))[0]) for i, value in enumerate(enum.value)
    )
    return EnumDoc(full_name=f"{outer}{enum.name}", comment=comment, line=line, values=values)


def _method_doc(method, comment_and_line) -> MethodDoc:
    comment, line = comment_and_line
    return MethodDoc(
        name=method.name,
        input_type=method.input_type.lstrip("."),
        output_type=method.output_type.lstrip("."),
        client_streaming=method.client_streaming,
        server_streaming=method.server_streaming,
        comment=comment,
        line=line,
    )


def _service_doc(service, path, outer, comments) -> ServiceDoc:
    comment, line = _comment(comments, path)
    methods = tuple(
        _method_doc(method, _comment(comments, (*path, SERVICE_METHOD, i))) for i, method in enumerate(service.method)
    )
    return ServiceDoc(full_name=f"{outer}{service.name}", comment=comment, line=line, methods=methods)
