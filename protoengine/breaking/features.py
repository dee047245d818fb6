"""Tell what a declaration means on the wire and in JSON, whatever syntax wrote it.

proto2, proto3 and editions express the same behaviours differently: `required`
versus `features.field_presence = LEGACY_REQUIRED`, a proto2 enum versus
`features.enum_type = CLOSED`, a group versus `features.message_encoding = DELIMITED`.
Rules compare the resolved behaviour, so a file moving from proto2 to editions
without changing meaning breaks nothing.
"""

from google.protobuf.descriptor_pb2 import FeatureSet, FieldDescriptorProto, FieldOptions

F = FieldDescriptorProto

# What each feature is when nothing sets it; editions 2023 and 2024 agree on these.
_DEFAULTS = {
    "proto2": {
        "field_presence": FeatureSet.EXPLICIT,
        "enum_type": FeatureSet.CLOSED,
        "utf8_validation": FeatureSet.NONE,
        "message_encoding": FeatureSet.LENGTH_PREFIXED,
        "json_format": FeatureSet.LEGACY_BEST_EFFORT,
    },
    "proto3": {
        "field_presence": FeatureSet.IMPLICIT,
        "enum_type": FeatureSet.OPEN,
        "utf8_validation": FeatureSet.VERIFY,
        "message_encoding": FeatureSet.LENGTH_PREFIXED,
        "json_format": FeatureSet.ALLOW,
    },
    "editions": {
        "field_presence": FeatureSet.EXPLICIT,
        "enum_type": FeatureSet.OPEN,
        "utf8_validation": FeatureSet.VERIFY,
        "message_encoding": FeatureSet.LENGTH_PREFIXED,
        "json_format": FeatureSet.ALLOW,
    },
}
EDITION_2024 = 1001

EXPLICIT = "optional with explicit presence"
IMPLICIT = "optional with implicit presence"
REQUIRED = "required"
REPEATED = "repeated"
MAP = "map"

_SCALAR_NAMES = {number: name[len("TYPE_") :].lower() for name, number in F.Type.items()}


def feature(element, name: str) -> int:
    """Return the value of a FeatureSet field for `element`, inherited from its parents and file."""
    node = element
    while node is not None:
        options = node.options
        if options is not None and options.HasField("features") and options.features.HasField(name):
            return getattr(options.features, name)
        oneof_options = _oneof_options(node)
        if oneof_options is not None and oneof_options.features.HasField(name):
            return getattr(oneof_options.features, name)
        node = node.parent
    return _DEFAULTS[element.file.syntax][name]


def _oneof_options(node):
    """Return the options of the real oneof a field sits in, when they set features."""
    oneof = getattr(node, "oneof", None)
    if oneof is None:
        return None
    message = node.parent.proto
    declaration = message.oneof_decl[node.proto.oneof_index]
    return declaration.options if declaration.HasField("options") and declaration.options.HasField("features") else None


def is_required(field) -> bool:
    return field.proto.label == F.LABEL_REQUIRED or (
        field.file.syntax == "editions" and feature(field, "field_presence") == FeatureSet.LEGACY_REQUIRED
    )


def has_presence(field) -> bool:
    """Tell whether the field remembers being set (a hazzer), as opposed to reading as zero when unset."""
    proto = field.proto
    if proto.type in (F.TYPE_MESSAGE, F.TYPE_GROUP) or field.is_extension or proto.HasField("oneof_index"):
        return True
    return feature(field, "field_presence") != FeatureSet.IMPLICIT


def cardinality(field) -> str:
    """Return one of EXPLICIT, IMPLICIT, REQUIRED, REPEATED, MAP."""
    if field.proto.label == F.LABEL_REPEATED:
        return MAP if field.is_map else REPEATED
    if is_required(field):
        return REQUIRED
    return EXPLICIT if has_presence(field) else IMPLICIT


def kind(field) -> int:
    """Return the field's type as encoded: an editions message with delimited encoding is a group."""
    if (
        field.proto.type == F.TYPE_MESSAGE
        and field.file.syntax == "editions"
        and feature(field, "message_encoding") == FeatureSet.DELIMITED
    ):
        return F.TYPE_GROUP
    return field.proto.type


def kind_name(field) -> str:
    """Return the type as a person writes it: `double`, `trading.v1.Money`, `group trading.v1.Legs`."""
    encoded = kind(field)
    if encoded == F.TYPE_GROUP and field.proto.type == F.TYPE_MESSAGE:
        return f"{field.type_name} (delimited encoding)"
    if encoded in (F.TYPE_MESSAGE, F.TYPE_ENUM):
        return field.type_name
    if encoded == F.TYPE_GROUP:
        return f"group {field.type_name}"
    return _SCALAR_NAMES[encoded]


def is_closed_enum(enum) -> bool:
    return feature(enum, "enum_type") == FeatureSet.CLOSED


def json_format(element) -> int:
    return feature(element, "json_format")


def utf8_validation(field) -> int:
    return feature(field, "utf8_validation")


def json_name(field) -> str:
    """Return the field's JSON name: the one protoc recorded, else the lowerCamelCase protoc would compute."""
    if field.proto.HasField("json_name"):
        return field.proto.json_name
    parts = field.proto.name.split("_")
    return parts[0] + "".join(part[:1].upper() + part[1:] for part in parts[1:])


def cpp_string_type(field) -> str:
    """Return the C++ type generated for a string or bytes field: STRING, CORD, VIEW or STRING_PIECE."""
    options = field.options
    if field.file.proto.edition < EDITION_2024 and options is not None and options.HasField("ctype"):
        return FieldOptions.CType.Name(options.ctype)
    value = _custom_feature(field, "cpp", "string_type")
    if value is not None:
        from google.protobuf import cpp_features_pb2

        return cpp_features_pb2.CppFeatures.StringType.Name(value)
    return "VIEW" if field.file.proto.edition >= EDITION_2024 else "STRING"


def java_utf8_validation(field) -> str:
    """Return whether Java checks UTF-8 on this string field: VERIFY or the resolved default."""
    file_options = field.file.options
    default = FeatureSet.Utf8Validation.Name(utf8_validation(field))
    if field.file.syntax != "editions" or (
        file_options is not None and file_options.HasField("java_string_check_utf8")
    ):
        return "VERIFY" if file_options is not None and file_options.java_string_check_utf8 else default
    value = _custom_feature(field, "java", "utf8_validation")
    from google.protobuf import java_features_pb2

    return "VERIFY" if value == java_features_pb2.JavaFeatures.VERIFY else default


def _custom_feature(element, language: str, name: str) -> int | None:
    """Return a (pb.cpp) or (pb.java) feature set on the element or its parents, or None."""
    from google.protobuf import cpp_features_pb2, java_features_pb2

    extension = {"cpp": cpp_features_pb2.cpp, "java": java_features_pb2.java}[language]
    node = element
    while node is not None:
        options = node.options
        if options is not None and options.HasField("features"):
            # The set may have been parsed before these extensions were imported; parse again to see them.
            features = FeatureSet.FromString(options.features.SerializeToString())
            if features.HasExtension(extension) and features.Extensions[extension].HasField(name):
                return getattr(features.Extensions[extension], name)
        node = node.parent
    return None
