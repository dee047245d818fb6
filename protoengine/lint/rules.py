"""buf's lint rules about single elements: names, enums, fields, services and comments.

Each rule is one small function handed one element, plus one row in `STYLE_RULES`;
rules that differ only in wording (the *_CASE and COMMENT_* families) get their
function from a builder. Messages keep buf's wording, so a team moving between `buf lint` and the
registry reads the same sentences.
"""

from google.protobuf.descriptor_pb2 import FeatureSet, FieldDescriptorProto

from protoengine.lint.comments import has_documentation
from protoengine.lint.model import Enum, EnumValue, Field, LintRule, Method, Problem, Service
from protoengine.lint.naming import (
    is_lower_snake_case,
    is_pascal_case,
    is_upper_snake_case,
    to_lower_snake_case,
    to_pascal_case,
    to_upper_snake_case,
)
from protoengine.locations import ENUM_OPTIONS, ENUM_VALUE_NUMBER, METHOD_INPUT_TYPE, METHOD_OUTPUT_TYPE

MINIMAL = "MINIMAL"
BASIC = "BASIC"
STANDARD = "STANDARD"
COMMENTS = "COMMENTS"
UNARY_RPC = "UNARY_RPC"
# buf's categories nest: everything in MINIMAL is in BASIC, everything in BASIC in STANDARD.
FROM_MINIMAL = (MINIMAL, BASIC, STANDARD)
FROM_BASIC = (BASIC, STANDARD)
ONLY_STANDARD = (STANDARD,)

EMPTY = "google.protobuf.Empty"
# EnumOptions.allow_alias
ENUM_OPTIONS_ALLOW_ALIAS = 2


def _in_map_entry(field: Field) -> bool:
    return field.message is not None and field.message.is_map_entry


# (name of the case, test, conversion that suggests the right spelling)
PASCAL_CASE = ("PascalCase", is_pascal_case, to_pascal_case)
LOWER_SNAKE_CASE = ("lower_snake_case", is_lower_snake_case, to_lower_snake_case)
UPPER_SNAKE_CASE = ("UPPER_SNAKE_CASE", is_upper_snake_case, to_upper_snake_case)


def _case_rule(label: str, case: tuple, skip=lambda element: False):
    """Build a *_CASE check: the element's name must convert to itself (buf's definition of being in a case)."""
    case_name, is_case, to_case = case

    def check(element, config) -> Problem | None:
        if is_case(element.name) or skip(element):
            return None
        return Problem(
            element,
            f'{label} name "{element.name}" should be {case_name}, such as "{to_case(element.name)}".',
            element.name_path,
        )

    return check


def check_enum_first_value_zero(enum: Enum, config) -> Problem | None:
    if enum.values and enum.values[0].proto.number != 0:
        first = enum.values[0]
        return Problem(
            first,
            f'First enum value "{first.name}" should have a numeric value of 0',
            first.path + (ENUM_VALUE_NUMBER,),
        )
    return None


def check_enum_no_allow_alias(enum: Enum, config) -> Problem | None:
    if enum.proto.HasField("options") and enum.proto.options.allow_alias:
        return Problem(
            enum,
            f'Enum option "allow_alias" on enum "{enum.name}" must be false.',
            enum.path + (ENUM_OPTIONS, ENUM_OPTIONS_ALLOW_ALIAS),
        )
    return None


def check_enum_value_prefix(value: EnumValue, config) -> Problem | None:
    prefix = to_upper_snake_case(value.parent.name) + "_"
    if not value.name.startswith(prefix):
        return Problem(value, f'Enum value name "{value.name}" should be prefixed with "{prefix}".', value.name_path)
    return None


def check_enum_zero_value_suffix(value: EnumValue, config) -> Problem | None:
    suffix = config.enum_zero_value_suffix
    if value.proto.number == 0 and not value.name.endswith(suffix):
        return Problem(
            value, f'Enum zero value name "{value.name}" should be suffixed with "{suffix}".', value.name_path
        )
    return None


def may_have_required_fields(file) -> bool:
    # proto3 refuses `required` at compile time.
    return file.proto.syntax != "proto3"


def check_field_not_required(field: Field, config) -> Problem | None:
    proto = field.proto
    required = proto.label == FieldDescriptorProto.LABEL_REQUIRED or (
        proto.HasField("options") and proto.options.features.field_presence == FeatureSet.LEGACY_REQUIRED
    )
    if required:
        return Problem(field, f'Field named "{field.name}" should not be required.', field.name_path)
    return None


def check_service_suffix(service: Service, config) -> Problem | None:
    if not service.name.endswith(config.service_suffix):
        return Problem(
            service,
            f'Service name "{service.name}" should be suffixed with "{config.service_suffix}".',
            service.name_path,
        )
    return None


def check_rpc_request_standard_name(method: Method, config) -> Problem | None:
    return _standard_name(
        method,
        method.proto.input_type,
        "request",
        "Request",
        config.rpc_allow_google_protobuf_empty_requests,
        METHOD_INPUT_TYPE,
    )


def check_rpc_response_standard_name(method: Method, config) -> Problem | None:
    return _standard_name(
        method,
        method.proto.output_type,
        "response",
        "Response",
        config.rpc_allow_google_protobuf_empty_responses,
        METHOD_OUTPUT_TYPE,
    )


def _standard_name(
    method: Method, type_name: str, role: str, suffix: str, allow_empty: bool, type_field: int
) -> Problem | None:
    full_name = type_name.lstrip(".")
    if allow_empty and full_name == EMPTY:
        return None
    name = full_name.rsplit(".", 1)[-1]
    short = to_pascal_case(method.name) + suffix
    long = to_pascal_case(method.parent.name) + short
    if name in (short, long):
        return None
    return Problem(
        method, f'RPC {role} type "{name}" should be named "{short}" or "{long}".', method.path + (type_field,)
    )


def check_rpc_no_client_streaming(method: Method, config) -> Problem | None:
    if method.proto.client_streaming:
        return Problem(method, f'RPC "{method.name}" is client streaming.')
    return None


def check_rpc_no_server_streaming(method: Method, config) -> Problem | None:
    if method.proto.server_streaming:
        return Problem(method, f'RPC "{method.name}" is server streaming.')
    return None


def _is_group_or_in_map_entry(field: Field) -> bool:
    # A group's comments belong to its message, so buf never asks the group field for one.
    return field.proto.type == FieldDescriptorProto.TYPE_GROUP or _in_map_entry(field)


def _comment_rule(label: str, skip=lambda element: False):
    """Build a COMMENT_* check: the element's leading comment must say something besides ignore directives."""

    def check(element, config) -> Problem | None:
        if skip(element) or has_documentation(element.file.leading_comment(element.path)):
            return None
        return Problem(element, f'{label} "{element.name}" should have a non-empty comment for documentation.')

    return check


STYLE_RULES = (
    LintRule(
        "ENUM_FIRST_VALUE_ZERO",
        "Checks that all first values of enums have a numeric value of 0.",
        FROM_BASIC,
        "enum",
        check_enum_first_value_zero,
    ),
    LintRule(
        "ENUM_NO_ALLOW_ALIAS",
        "Checks that enums do not have the allow_alias option set.",
        FROM_BASIC,
        "enum",
        check_enum_no_allow_alias,
    ),
    LintRule(
        "ENUM_PASCAL_CASE", "Checks that enums are PascalCase.", FROM_BASIC, "enum", _case_rule("Enum", PASCAL_CASE)
    ),
    LintRule(
        "ENUM_VALUE_UPPER_SNAKE_CASE",
        "Checks that enum values are UPPER_SNAKE_CASE.",
        FROM_BASIC,
        "enum_value",
        _case_rule("Enum value", UPPER_SNAKE_CASE),
    ),
    LintRule(
        "ENUM_VALUE_PREFIX",
        "Checks that enum values are prefixed with ENUM_NAME_UPPER_SNAKE_CASE.",
        ONLY_STANDARD,
        "enum_value",
        check_enum_value_prefix,
    ),
    LintRule(
        "ENUM_ZERO_VALUE_SUFFIX",
        "Checks that enum zero values have a consistent suffix (configurable, _UNSPECIFIED by default).",
        ONLY_STANDARD,
        "enum_value",
        check_enum_zero_value_suffix,
    ),
    LintRule(
        "FIELD_LOWER_SNAKE_CASE",
        "Checks that field names are lower_snake_case.",
        FROM_BASIC,
        "field",
        _case_rule("Field", LOWER_SNAKE_CASE, _in_map_entry),
        names_pass=lambda names, config: all(map(is_lower_snake_case, set(names))),  # names repeat: each tested once
    ),
    LintRule(
        "FIELD_NOT_REQUIRED",
        "Checks that fields are not configured to be required.",
        FROM_BASIC,
        "field",
        check_field_not_required,
        may_have_required_fields,
    ),
    LintRule(
        "MESSAGE_PASCAL_CASE",
        "Checks that messages are PascalCase.",
        FROM_BASIC,
        "message",
        _case_rule("Message", PASCAL_CASE, lambda message: message.is_map_entry),
    ),
    LintRule(
        "ONEOF_LOWER_SNAKE_CASE",
        "Checks that oneof names are lower_snake_case.",
        FROM_BASIC,
        "oneof",
        _case_rule("Oneof", LOWER_SNAKE_CASE, lambda oneof: oneof.is_synthetic),
    ),
    LintRule(
        "RPC_PASCAL_CASE", "Checks that RPCs are PascalCase.", FROM_BASIC, "method", _case_rule("RPC", PASCAL_CASE)
    ),
    LintRule(
        "RPC_REQUEST_STANDARD_NAME",
        "Checks that RPC request type names are RPCNameRequest or ServiceNameRPCNameRequest.",
        ONLY_STANDARD,
        "method",
        check_rpc_request_standard_name,
    ),
    LintRule(
        "RPC_RESPONSE_STANDARD_NAME",
        "Checks that RPC response type names are RPCNameResponse or ServiceNameRPCNameResponse.",
        ONLY_STANDARD,
        "method",
        check_rpc_response_standard_name,
    ),
    LintRule(
        "SERVICE_PASCAL_CASE",
        "Checks that services are PascalCase.",
        FROM_BASIC,
        "service",
        _case_rule("Service", PASCAL_CASE),
    ),
    LintRule(
        "SERVICE_SUFFIX",
        "Checks that services have a consistent suffix (configurable, Service by default).",
        ONLY_STANDARD,
        "service",
        check_service_suffix,
    ),
    LintRule(
        "RPC_NO_CLIENT_STREAMING",
        "Checks that RPCs are not client streaming.",
        (UNARY_RPC,),
        "method",
        check_rpc_no_client_streaming,
    ),
    LintRule(
        "RPC_NO_SERVER_STREAMING",
        "Checks that RPCs are not server streaming.",
        (UNARY_RPC,),
        "method",
        check_rpc_no_server_streaming,
    ),
    LintRule("COMMENT_ENUM", "Checks that enums have non-empty comments.", (COMMENTS,), "enum", _comment_rule("Enum")),
    LintRule(
        "COMMENT_ENUM_VALUE",
        "Checks that enum values have non-empty comments.",
        (COMMENTS,),
        "enum_value",
        _comment_rule("Enum value"),
    ),
    LintRule(
        "COMMENT_FIELD",
        "Checks that fields have non-empty comments.",
        (COMMENTS,),
        "field",
        _comment_rule("Field", _is_group_or_in_map_entry),
    ),
    LintRule(
        "COMMENT_MESSAGE",
        "Checks that messages have non-empty comments.",
        (COMMENTS,),
        "message",
        _comment_rule("Message", lambda message: message.is_map_entry),
    ),
    LintRule(
        "COMMENT_ONEOF",
        "Checks that oneofs have non-empty comments.",
        (COMMENTS,),
        "oneof",
        _comment_rule("Oneof", lambda oneof: oneof.is_synthetic),
    ),
    LintRule("COMMENT_RPC", "Checks that RPCs have non-empty comments.", (COMMENTS,), "method", _comment_rule("RPC")),
    LintRule(
        "COMMENT_SERVICE",
        "Checks that services have non-empty comments.",
        (COMMENTS,),
        "service",
        _comment_rule("Service"),
    ),
)
