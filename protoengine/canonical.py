"""Identify schemas: canonical text, fingerprints, and the two input forms (text and descriptor).

A schema is identified by what it compiles to plus its references: texts that
compile to the same descriptor with the same comments are the same schema, however
they are laid out (`identity_fingerprint`). A comment is part of a schema's
documentation, so changing one makes another schema (a PATCH version).
When normalisation is asked for (Confluent's `normalize=true`), the text is first
replaced by `normalize(...)`: compiled and printed back canonically, so comments,
whitespace and the order of options no longer matter; `fingerprint` of that
normalised text identifies the schema's meaning.

Clients may send a schema as .proto text or, like confluent-kafka's Python
serializer, as the base64 of a serialized FileDescriptorProto. The descriptor form
is printed as canonical text on the way in, so it is stored and identified like text.
"""

import base64
import binascii
import hashlib
import itertools
import json
import re
from collections.abc import Iterator, Mapping, Sequence

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor_pb2 import FileDescriptorProto
from google.protobuf.message import DecodeError, Message

from protoengine.compiler import (
    COMPILE_ERROR,
    CompilationFailed,
    CompiledFiles,
    compile_one,
    compile_sources,
    is_well_known,
)
from protoengine.findings import Finding
from protoengine.printer import UnprintableDescriptor, print_file, print_normalized
from protoengine.wire import iter_record_spans, iter_records

# Standard or URL-safe base64, possibly wrapped over lines; .proto text nearly always has other characters.
_BASE64_TEXT = re.compile(r"[A-Za-z0-9+/\-_\r\n]+={0,2}\s*")
_NOT_A_SCHEMA = "The schema is neither .proto text nor a base64-encoded FileDescriptorProto"


def normalize(path: str, text: str, dependencies: Mapping[str, str]) -> str:
    """Return the canonical text of a schema: what `normalize=true` stores and fingerprints, in Confluent's layout.

    Texts that compile to the same descriptor give the same result, whatever their
    comments, whitespace or order of options. Raises CompilationFailed.
    """
    return normalize_compiled(path, compile_one(path, text, dependencies))


def normalize_compiled(path: str, compiled: CompiledFiles) -> str:
    """Return the canonical text of the compiled file `path` (see `normalize`), printed once per compiled set."""
    return compiled.derived(
        ("normalized", path),
        lambda: _printed(path, compiled.file(path), compiled.files, printer=print_normalized, model=compiled.model),
    )


def fingerprint(text: str, references: Sequence[tuple[str, str, int]] = ()) -> str:
    """Return the sha256 hex digest identifying a schema by its exact text and its references.

    References are (import name, subject, version) triples, in the order given, as
    Confluent compares them. Pass the normalised text when normalisation is on.
    """
    identity = [text, [[name, subject, int(version)] for name, subject, version in references]]
    encoded = _json(identity)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def identity_fingerprint(
    file: FileDescriptorProto,
    references: Sequence[tuple[str, str, int]] = (),
    extras: str = "",
    *,
    comments: bool = True,
) -> str:
    """Return the sha256 hex digest identifying a compiled schema by its descriptor, comments and references.

    Line and column spans and the file's own name are left out, so whitespace and layout do not count. With
    `comments=False` the comments are left out too and the digest is marked as such:
    it identifies a schema given as a descriptor, which carries no comments, and the
    commented text of the same schema can find it by asking for this form.
    """
    return _identity_of_parts(file, *descriptor_and_source_info(file), references, extras, comments)


def _identity_of_parts(
    file: FileDescriptorProto, descriptor: bytes, source_info: bytes, references, extras: str, comments: bool
) -> str:
    """Return identity_fingerprint of a file from its serialized parts (`descriptor_and_source_info`)."""
    documentation = _documentation_digest(source_info) if comments else "comments unknown"
    return _identity(_descriptor_digest(file, descriptor), documentation, references, extras)


def identity_fingerprints(
    file: FileDescriptorProto, references: Sequence[tuple[str, str, int]] = (), extras: str = ""
) -> tuple[str, str]:
    """Return identity_fingerprint with comments and without, reading the descriptor once for both."""
    return _both_identities(file, *descriptor_and_source_info(file), references, extras)


def _both_identities(
    file: FileDescriptorProto, descriptor: bytes, source_info: bytes, references, extras: str
) -> tuple[str, str]:
    """Return identity_fingerprints of a file from its serialized parts (`descriptor_and_source_info`)."""
    digest = _descriptor_digest(file, descriptor)
    return (
        _identity(digest, _documentation_digest(source_info), references, extras),
        _identity(digest, "comments unknown", references, extras),
    )


def identity_fingerprint_of(
    compiled: CompiledFiles,
    path: str,
    references: Sequence[tuple[str, str, int]] = (),
    extras: str = "",
    *,
    comments: bool = True,
) -> str:
    """Return identity_fingerprint of the compiled file `path`, computed once per set for these arguments."""

    def computed() -> str:
        file = compiled.file(path)
        return _identity_of_parts(file, *compiled.model.serialized(file), references, extras, comments)

    return compiled.derived(_identity_key(path, references, extras, comments), computed)


def identity_fingerprints_of(
    compiled: CompiledFiles, path: str, references: Sequence[tuple[str, str, int]] = (), extras: str = ""
) -> tuple[str, str]:
    """Return identity_fingerprints of the compiled file `path`, each computed once per set for these arguments."""
    both = []

    def computed(comments: bool) -> str:
        if not both:  # both forms from one reading of the descriptor, when either is missing
            file = compiled.file(path)
            both.extend(_both_identities(file, *compiled.model.serialized(file), references, extras))
        return both[0] if comments else both[1]

    return (
        compiled.derived(_identity_key(path, references, extras, True), lambda: computed(True)),
        compiled.derived(_identity_key(path, references, extras, False), lambda: computed(False)),
    )


def _identity_key(path: str, references: Sequence[tuple[str, str, int]], extras: str, comments: bool) -> tuple:
    """Return the key of an identity fingerprint among a set's derived outputs: every input it is computed from."""
    kept_references = tuple((name, subject, int(version)) for name, subject, version in references)
    return ("identity", path, kept_references, extras, comments)


# FileDescriptorProto's fields the descriptor digest leaves out: the path it was compiled under follows the
# subject's name, not the schema, and the source info holds layout (comments are hashed on their own).
_FILE_NAME, _FILE_SOURCE_CODE_INFO = 1, 9


def descriptor_and_source_info(file: FileDescriptorProto) -> tuple[bytes, bytes]:
    """Return the file's bytes without its name and source info, and the source info's bytes, from one serialization.

    The first is what a copy with both fields cleared serializes to, without copying the source info (tens of
    thousands of locations in a large schema) only to throw it away; the second is what the source info itself
    serializes to, so the comments are read without serializing it again.
    """
    data = file.SerializeToString(deterministic=True)
    kept, source_info = [], b""
    # Sliced by position, so the source info (most of a file's bytes) is copied once.
    for number, start, value_start, end in iter_record_spans(data):
        if number == _FILE_SOURCE_CODE_INFO:
            source_info = data[value_start:end]
        elif number != _FILE_NAME:
            kept.append(data[start:end])
    return b"".join(kept), source_info


def _descriptor_digest(file: FileDescriptorProto, descriptor: bytes) -> str:
    """Return the digest of the file's bytes without name and source info (`descriptor_and_source_info`)."""
    return hashlib.sha256(_pool_independent_bytes(file, descriptor)).hexdigest()


def _identity(descriptor_digest: str, documentation, references, extras: str) -> str:
    identity = [
        descriptor_digest,
        documentation,
        [[name, subject, int(version)] for name, subject, version in references],
        extras,
    ]
    return hashlib.sha256(_json(identity).encode("utf-8")).hexdigest()


def _documentation_digest(source_info: bytes) -> str:
    """Return the sha256 hex digest of every commented location's path and comments, in the source info's order.

    Read from the source info's bytes in C code: the locations that have a comment field are kept whole
    (`_comment_mask`), read again as locations of path and comment fields alone (the span, which is layout,
    dropped as an unknown field) and hashed as serialized, one length-delimited record each. A comment
    changed, added, removed or moved to another element changes the digest; whitespace outside comments does not.
    """
    # Both lists sliced in C first: a loop over a upb container ends in an IndexError, and compress reads two.
    locations = _LocationBytes.FromString(source_info).location[:]
    commented = _LocationBytes(location=list(itertools.compress(locations, _comment_mask(source_info)[:])))
    documented = _LocationDocumentation.FromString(commented.SerializeToString(deterministic=True))
    documented.DiscardUnknownFields()
    return hashlib.sha256(documented.SerializeToString(deterministic=True)).hexdigest()


def _documentation(file: FileDescriptorProto, source_info: bytes | None = None) -> list[list]:
    """Return [path, leading, trailing, *detached] of every location with a comment, in the source info's order.

    What identity fingerprints hashed (as JSON) before migration 0020: migrations 0017 and 0020 read it to
    recognise fingerprints stored then. `source_info` is the bytes of the file's source info when the caller has them.
    """
    if source_info is None:
        source_info = file.source_code_info.SerializeToString(deterministic=True)
    documentation = []
    locations = file.source_code_info.location
    for index in _commented_locations(source_info):
        location = locations[index]
        # Each field read once: a schema of a few thousand fields has thousands of commented locations.
        leading, trailing, detached = (
            location.leading_comments,
            location.trailing_comments,
            location.leading_detached_comments,
        )
        if leading or trailing or detached:
            entry = [location.path[:], leading, trailing]
            if detached:
                entry += detached
            documentation.append(entry)
    return documentation


def _commented_locations(source_info: bytes) -> Iterator[int]:
    """Return the indexes of the locations of a source info's bytes that have a comment field.

    Reading a location through protobuf costs about a microsecond, and most locations of a
    large schema (a field's type, name, number) have no comment: they are told apart in C
    code instead, by reading the source info's bytes as locations that declare only their
    comment fields, dropping the rest (path and span), and keeping the locations left non-empty.
    """
    return itertools.compress(itertools.count(), _comment_mask(source_info))


def _comment_mask(source_info: bytes) -> Sequence[bytes]:
    """Return, for each location of a source info's bytes, its comment fields' bytes: empty when it has none.

    The locations are read as declaring only their comment fields, and the rest (path and span) dropped.
    """
    comments = _LocationComments.FromString(source_info)
    comments.DiscardUnknownFields()
    return _LocationBytes.FromString(comments.SerializeToString(deterministic=True)).location


def _private_classes():
    """Return three views of SourceCodeInfo's bytes: each location as bytes, as its comment fields alone, and as
    its path and comment fields (the path as the bytes of its packed numbers)."""
    field = descriptor_pb2.FieldDescriptorProto
    private = descriptor_pb2.FileDescriptorProto(name="protoengine/locations_private.proto", package="protoengine")
    as_bytes = private.message_type.add(name="LocationBytes")
    as_bytes.field.add(name="location", number=1, label=field.LABEL_REPEATED, type=field.TYPE_BYTES)
    comments = private.message_type.add(name="Comments")  # Location's comment fields, as bytes
    documented = private.message_type.add(name="Documented")  # Location's path and comment fields, as bytes
    documented.field.add(name="path", number=1, type=field.TYPE_BYTES)
    for message in (comments, documented):
        message.field.add(name="leading_comments", number=3, type=field.TYPE_BYTES)
        message.field.add(name="trailing_comments", number=4, type=field.TYPE_BYTES)
        message.field.add(name="leading_detached_comments", number=6, label=field.LABEL_REPEATED, type=field.TYPE_BYTES)
    for name, location in (("LocationComments", "Comments"), ("LocationDocumentation", "Documented")):
        private.message_type.add(name=name).field.add(
            name="location",
            number=1,
            label=field.LABEL_REPEATED,
            type=field.TYPE_MESSAGE,
            type_name=f".protoengine.{location}",
        )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(private)
    return tuple(
        message_factory.GetMessageClass(pool.FindMessageTypeByName(f"protoengine.{name}"))
        for name in ("LocationBytes", "LocationComments", "LocationDocumentation")
    )


_LocationBytes, _LocationComments, _LocationDocumentation = _private_classes()


def _json(value) -> str:
    """Return the compact JSON that fingerprints hash; nothing in it refers to itself, so no cycle check."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), check_circular=False)


def schema_text_from_input(path: str, schema: str, dependencies: Mapping[str, str]) -> str:
    """Return the .proto text of a schema sent as text or as a base64 FileDescriptorProto.

    Text comes back unchanged once it compiles; a descriptor comes back printed
    canonically, so the same descriptor always yields the same text and matches
    the normalised form of its source. Raises CompilationFailed for input that is
    neither, or that does not compile with the given dependencies.
    """
    return compile_input(path, schema, dependencies)[0]


def compile_input(path: str, schema: str, dependencies: Mapping[str, str]) -> tuple[str, CompiledFiles]:
    """Return the .proto text of a schema sent as text or descriptor (`schema_text_from_input`) and its compiled set."""
    descriptor, refusal = _descriptor_from_base64(schema)
    if descriptor is None:
        try:
            compiled = compile_one(path, schema, dependencies)
        except CompilationFailed:
            # Base64-looking input that is no descriptor is better explained as such than by protoc.
            if refusal:
                raise CompilationFailed([Finding(path, 1, 1, COMPILE_ERROR, f"{_NOT_A_SCHEMA}: {refusal}")]) from None
            raise
        return schema, compiled
    text = _printed(path, descriptor, _dependency_files(path, descriptor, dependencies))
    return text, compile_one(path, text, dependencies)


def serialized_descriptor(path: str, text: str, dependencies: Mapping[str, str]) -> str:
    """Return the base64 of the compiled FileDescriptorProto, without source info (`format=serialized`)."""
    return descriptor_base64(compile_one(path, text, dependencies).file(path))


def descriptor_base64(file: FileDescriptorProto) -> str:
    """Return the base64 of a compiled FileDescriptorProto without its source info."""
    root = FileDescriptorProto()
    root.CopyFrom(file)
    root.ClearField("source_code_info")
    return base64.standard_b64encode(_pool_independent_bytes(root)).decode("ascii")


# Options and feature sets: the messages custom options extend.
_EXTENDABLE = tuple(
    descriptor for descriptor in descriptor_pb2.DESCRIPTOR.message_types_by_name.values() if descriptor.extension_ranges
)


def _pool_independent_bytes(file: FileDescriptorProto, data: bytes | None = None) -> bytes:
    """Return the descriptor's deterministic bytes with every options message's fields in field-number order.

    protoc's output keeps custom options (and feature set extensions) as unknown fields in the order they were
    written, unless this process imported generated code declaring them (a `_pb2` module of the catalogue,
    googleapis' annotations): protobuf then parses them as known extensions and writes them back in an order
    of its own. Identity fingerprints are stored and compared across processes, so their bytes must depend
    on neither: options out of field-number order are read as unknown fields and put back in that order.
    `data`, when given, is the file's bytes to start from (those of the file with some top-level fields left out).
    """
    if data is None:
        data = file.SerializeToString(deterministic=True)
    if _holds_descriptor_fields_alone(data):
        return data
    # Feature sets (editions) sit inside options and take extensions of their own (pb.cpp, pb.java).
    if not any(
        _out_of_order(options) or (options.HasField("features") and _out_of_order(options.features))
        for options in _options_messages(file)
    ):
        return data
    private = _PrivateFile.FromString(data)
    for message in _extendable_messages(private):
        current = message.SerializeToString(deterministic=True)
        ordered = _in_field_order(current)
        if ordered != current:
            message.Clear()
            message.MergeFromString(ordered)
    return private.SerializeToString(deterministic=True)


def _holds_descriptor_fields_alone(data: bytes) -> bool:
    """Tell whether a file's bytes hold only fields descriptor.proto declares: no custom option, no feature extension.

    protobuf writes declared fields in field-number order, so such bytes need no reordering; one
    round trip through C code says so faster than looking into every options message (most schemas).
    """
    private = _PrivateFile.FromString(data)
    private.DiscardUnknownFields()
    return private.SerializeToString(deterministic=True) == data


def _out_of_order(message) -> bool:
    data = message.SerializeToString(deterministic=True)
    return _in_field_order(data) != data


def _in_field_order(data: bytes) -> bytes:
    """Return a message's bytes with its top-level fields in field-number order (repeated ones keep theirs)."""
    return b"".join(record for _, record in sorted(iter_records(data), key=lambda item: item[0]))


def _options_messages(file: FileDescriptorProto) -> list:
    """Return every options message a file declares (file, messages, fields, oneofs, enums, services, ...)."""
    messages, pending = [], list(file.message_type)
    while pending:
        message = pending.pop()
        messages.append(message)
        pending.extend(message.nested_type)
    enums = [*file.enum_type, *(enum for message in messages for enum in message.enum_type)]
    declarations = [
        file,
        *file.extension,
        *messages,
        *(item for message in messages for item in message.field),
        *(item for message in messages for item in message.extension),
        *(item for message in messages for item in message.oneof_decl),
        *(item for message in messages for item in message.extension_range),
        *enums,
        *(value for enum in enums for value in enum.value),
        *file.service,
        *(method for service in file.service for method in service.method),
    ]
    return [declaration.options for declaration in declarations if declaration.HasField("options")]


def _private_file_class():
    """FileDescriptorProto from a pool that knows descriptor.proto alone: every custom option stays unknown."""
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(descriptor_pb2.DESCRIPTOR.serialized_pb)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("google.protobuf.FileDescriptorProto"))


_PrivateFile = _private_file_class()
_EXTENDABLE_NAMES = frozenset(descriptor.full_name for descriptor in _EXTENDABLE)


def _extendable_messages(message):
    """Yield every options message and feature set inside `message`, depth first."""
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        for item in (value,) if isinstance(value, Message) else value:
            if field.message_type.full_name in _EXTENDABLE_NAMES:
                yield item
            yield from _extendable_messages(item)


def _printed(
    path: str, file: FileDescriptorProto, dependencies: Sequence[FileDescriptorProto], printer=print_file, model=None
) -> str:
    try:
        return printer(file, dependencies, model=model)
    except UnprintableDescriptor as error:
        raise CompilationFailed([Finding(path, 0, 0, COMPILE_ERROR, str(error))]) from None


def _descriptor_from_base64(schema: str) -> tuple[FileDescriptorProto | None, str]:
    """Return the FileDescriptorProto that `schema` encodes, or None and why base64-looking input is none.

    Only base64 characters is a strong sign of a descriptor: .proto text needs
    spaces, quotes or semicolons (a file of bare `//comments` is the one exception,
    which is why the caller still tries it as text).
    """
    stripped = schema.strip()
    if not stripped or not _BASE64_TEXT.fullmatch(stripped):
        return None, ""
    compact = "".join(stripped.split()).replace("+", "-").replace("/", "_")
    try:
        descriptor = FileDescriptorProto.FromString(base64.urlsafe_b64decode(_padded(compact)))
    except (binascii.Error, ValueError, DecodeError) as error:
        return None, f"it looks like base64 but does not decode to a FileDescriptorProto ({error})."
    if not descriptor.name:
        return None, "it decodes from base64, but not to a FileDescriptorProto with a file name."
    if _holds_invalid_text(descriptor):
        return None, "it decodes from base64, but its names are not UTF-8."
    return descriptor, ""


def _holds_invalid_text(message) -> bool:
    """Return True when a string field holds bytes that are not UTF-8 (protobuf then hands them over as bytes)."""
    for field, value in message.ListFields():
        values = value if field.is_repeated else (value,)
        if field.type == field.TYPE_STRING and any(isinstance(item, bytes) for item in values):
            return True
        if field.type == field.TYPE_MESSAGE and any(_holds_invalid_text(item) for item in values):
            return True
    return False


def _padded(text: str) -> str:
    text = text.rstrip("=")
    return text + "=" * (-len(text) % 4)


def _dependency_files(
    path: str, descriptor: FileDescriptorProto, dependencies: Mapping[str, str]
) -> tuple[FileDescriptorProto, ...]:
    """Compile the files the descriptor imports, so its custom options and short names can be resolved."""
    imports = [*descriptor.dependency, *descriptor.option_dependency]
    missing = [name for name in imports if name not in dependencies and not is_well_known(name)]
    if missing:
        names = ", ".join(f'"{name}"' for name in missing)
        raise CompilationFailed(
            [
                Finding(
                    path,
                    0,
                    0,
                    COMPILE_ERROR,
                    f"The descriptor imports {names}, which is not among the given references.",
                )
            ]
        )
    if not imports:
        return ()
    # protoc can only be asked for files in the mapping, so a stub that imports them all stands in for the root.
    stub = _unused_path(dependencies)
    stub_text = 'syntax = "proto3";\n' + "".join(f'import "{name}";\n' for name in dict.fromkeys(imports))
    compiled = compile_sources({**dependencies, stub: stub_text}, roots=[stub])
    return tuple(file for file in compiled.files if file.name != stub)


def _unused_path(dependencies: Mapping[str, str]) -> str:
    number = 0
    while f"registry_imports_{number}.proto" in dependencies:
        number += 1
    return f"registry_imports_{number}.proto"
