"""Label a new schema version with a semantic version bump.

MAJOR: the change breaks under the subject's rule set, in either direction.
MINOR: it changes meaning without breaking (new fields, messages, enum values,
       RPCs, files; also compatible removals and renames).
PATCH: only comments, layout or options that do not change encoding differ.
NONE:  the compiled files are identical, source positions and comments included.
"""

import re
from collections.abc import Sequence

from google.protobuf.descriptor_pb2 import FileDescriptorProto

from protoengine.compatibility import FULL, SPEC, check_compatibility
from protoengine.compiler import is_well_known

MAJOR, MINOR, PATCH, NONE = "MAJOR", "MINOR", "PATCH", "NONE"
BUMPS = (MAJOR, MINOR, PATCH, NONE)
FIRST_VERSION = "1.0.0"

_VERSION = re.compile(r"^(?P<prefix>v?)(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)$")


def classify_change(
    previous: Sequence[FileDescriptorProto],
    current: Sequence[FileDescriptorProto],
    *,
    rule_set: str = SPEC,
    breaks: bool | None = None,
) -> str:
    """Return MAJOR, MINOR, PATCH or NONE for `current` as the version after `previous`.

    `breaks` is what a comparison already made found (compatibility.check_new_version's
    `breaks_latest`); without it the two versions are compared here, at FULL.
    """
    old, new = _own(previous), _own(current)
    if old == new:
        return NONE
    if breaks is None:
        breaks = bool(check_compatibility(current, [previous], level=FULL, rule_set=rule_set))
    if breaks:
        return MAJOR
    if _shape(old) != _shape(new):
        return MINOR  # declarations were added or removed: no copy without options is needed to see it
    if [_meaning(file) for file in old] == [_meaning(file) for file in new]:
        return PATCH
    return MINOR


def next_version(version: str | None, bump: str) -> str:
    """Return the version after `version` for a bump: "1.4.2" + MINOR is "1.5.0"; None starts at "1.0.0"."""
    if bump not in BUMPS:
        raise ValueError(f'Unknown version bump "{bump}". Choose one of {", ".join(BUMPS)}.')
    if version is None:
        return FIRST_VERSION
    match = _VERSION.match(version)
    if not match:
        raise ValueError(f'"{version}" is not a semantic version such as "1.4.2".')
    major, minor, patch = int(match["major"]), int(match["minor"]), int(match["patch"])
    if bump == MAJOR:
        major, minor, patch = major + 1, 0, 0
    elif bump == MINOR:
        minor, patch = minor + 1, 0
    elif bump == PATCH:
        patch += 1
    return f"{match['prefix']}{major}.{minor}.{patch}"


def _own(files) -> list[FileDescriptorProto]:
    files = getattr(files, "files", files)  # a compiled set or its model
    return sorted((file for file in files if not is_well_known(file.name)), key=lambda file: file.name)


def _shape(files: Sequence[FileDescriptorProto]) -> list:
    """Return how many declarations of each kind every file and message holds (options never change it)."""
    return [
        (
            file.name,
            [len(service.method) for service in file.service],
            len(file.extension),
            _enums_shape(file.enum_type),
            _messages_shape(file.message_type),
        )
        for file in files
    ]


def _messages_shape(messages) -> list:
    return [
        (
            len(message.field),
            len(message.oneof_decl),
            len(message.extension),
            _enums_shape(message.enum_type),
            _messages_shape(message.nested_type),
        )
        for message in messages
    ]


def _enums_shape(enums) -> list[int]:
    return [len(enum.value) for enum in enums]


def _meaning(file: FileDescriptorProto) -> FileDescriptorProto:
    """Return a copy of the file without what does not change encoding: source info and options.

    Editions features stay: they decide presence, enum openness and encodings.
    """
    copy = FileDescriptorProto()
    copy.CopyFrom(file)
    copy.ClearField("source_code_info")
    _strip_options(copy)
    for message in copy.message_type:
        _strip_message(message)
    for enum in copy.enum_type:
        _strip_enum(enum)
    for extension in copy.extension:
        _strip_options(extension)
    for service in copy.service:
        _strip_options(service)
        for method in service.method:
            _strip_options(method)
    return copy


def _strip_message(message) -> None:
    _strip_options(message)
    for part in (*message.field, *message.extension, *message.oneof_decl, *message.extension_range):
        _strip_options(part)
    for nested in message.nested_type:
        _strip_message(nested)
    for enum in message.enum_type:
        _strip_enum(enum)


def _strip_enum(enum) -> None:
    _strip_options(enum)
    for value in enum.value:
        _strip_options(value)


def _strip_options(element) -> None:
    if not element.HasField("options"):
        return
    options = element.options
    features = options.features if options.HasField("features") else None
    map_entry = getattr(options, "map_entry", False)
    kept = type(options)()
    if features is not None:
        kept.features.CopyFrom(features)
    if map_entry:
        kept.map_entry = True
    element.ClearField("options")
    if kept.ByteSize():
        element.options.CopyFrom(kept)
