"""One previous/current fixture pair per breaking rule, from the language guide's compatibility facts.

Each Case gives a previous schema, a current one that breaks the rule and a current
one that changes the same thing compatibly (for that rule), plus the text the
finding must point at in the current file, as buf places it: what changed, or for a
deletion the element that held the deleted one (its message, enum or service). `at`
is None where buf has no place in the file (a deleted top-level type), and `path`
is empty where it names no file (a deleted file or package).
"""

from dataclasses import dataclass

Sources = str | dict[str, str]


@dataclass(frozen=True)
class Case:
    rule: str
    previous: Sources
    breaking: Sources
    compatible: Sources
    at: str | None  # the text the finding points at in the current file, None for the bare file
    path: str = "a.proto"


P3 = 'syntax = "proto3";\npackage acme.v1;\n\n'
P2 = 'syntax = "proto2";\npackage acme.v1;\n\n'
ED = 'edition = "2023";\npackage acme.v1;\n\n'

TICK = P3 + "message TickData {\n  string symbol = 1;\n  int32 qty = 2;\n  double bid = 3;\n  int64 id = 4;\n}\n"
SIDE = P3 + "enum Side {\n  SIDE_UNSPECIFIED = 0;\n  SIDE_BUY = 1;\n}\n"
ORDERS = (
    P3 + "message PutRequest {}\nmessage PutReply {}\n\nservice Orders {\n  rpc Put(PutRequest) returns (PutReply);\n  "
    "rpc Cancel(PutRequest) returns (PutReply);\n}\n"
)
BASE2 = P2 + "message Base {\n  extensions 100 to 199;\n}\n"
EXT = BASE2 + "\nextend Base {\n  optional int32 tag = 100;\n}\n"
RESERVED = P3 + 'message Quote {\n  reserved 4, 8 to 10;\n  reserved "old";\n  string symbol = 1;\n}\n'
ENUM_RESERVED = P3 + "enum Side {\n  SIDE_UNSPECIFIED = 0;\n  reserved 5 to 9;\n}\n"
DEFAULTS = P2 + "message Limits {\n  optional int32 qty = 1 [default = 5];\n}\n"
NOTE2 = P2 + "message Note {\n  optional string text = 1;\n}\n"
EDITION_NOTE = ED + "message Note {\n  string text = 1;\n}\n"
# buf compares a package's enums (extensions) only while the current set still declares one in it.
KIND = "\nenum Kind {\n  KIND_UNSPECIFIED = 0;\n}\n"
OTHER_EXT = P2 + 'import "a.proto";\n\nextend Base {\n  optional int32 other = 150;\n}\n'
EDITION_SIDE = ED + "enum Side {\n  SIDE_UNSPECIFIED = 0;\n}\n"


def tick(old: str, new: str) -> str:
    return TICK.replace(old, new)


def file_option_case(rule: str, option: str, breaking_value: str, compatible_value: str) -> Case:
    """A file option set to a new effective value breaks; spelling out its current value does not."""
    return Case(
        rule,
        SIDE,
        SIDE.replace("\n\n", f"\n\noption {option} = {breaking_value};\n\n", 1),
        SIDE.replace("\n\n", f"\n\noption {option} = {compatible_value};\n\n", 1),
        f"option {option}",
    )


CASES = [
    Case(
        "ENUM_NO_DELETE",
        SIDE,
        P3 + "message Other {}\n",
        SIDE.replace("SIDE_BUY = 1;", "SIDE_BUY = 1;\n  SIDE_SELL = 2;"),
        None,
    ),
    Case(
        "ENUM_SAME_JSON_FORMAT",
        EDITION_SIDE,
        EDITION_SIDE.replace("{\n", "{\n  option features.json_format = LEGACY_BEST_EFFORT;\n"),
        EDITION_SIDE.replace("{\n", "{\n  option features.json_format = ALLOW;\n"),
        "option features.json_format",
    ),
    Case(
        "ENUM_SAME_TYPE",
        EDITION_SIDE,
        EDITION_SIDE.replace("{\n", "{\n  option features.enum_type = CLOSED;\n"),
        EDITION_SIDE.replace("{\n", "{\n  option features.enum_type = OPEN;\n"),
        "option features.enum_type",
    ),
    Case(
        "ENUM_VALUE_NO_DELETE",
        SIDE,
        SIDE.replace("SIDE_BUY = 1;", 'reserved 1;\n  reserved "SIDE_BUY";'),
        SIDE.replace("SIDE_BUY = 1;", "SIDE_BUY = 1;\n  SIDE_SELL = 2;"),
        "enum Side",
    ),
    Case(
        "ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED",
        SIDE,
        SIDE.replace("SIDE_BUY = 1;", "reserved 1;"),
        SIDE.replace("SIDE_BUY = 1;", 'reserved "SIDE_BUY";'),
        "enum Side",
    ),
    Case(
        "ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED",
        SIDE,
        SIDE.replace("SIDE_BUY = 1;", 'reserved "SIDE_BUY";'),
        SIDE.replace("SIDE_BUY = 1;", "reserved 1;"),
        "enum Side",
    ),
    Case(
        "ENUM_VALUE_SAME_NAME",
        SIDE,
        SIDE.replace("SIDE_BUY", "SIDE_PURCHASE"),
        SIDE.replace("{\n", "{\n  option allow_alias = true;\n").replace(
            "SIDE_BUY = 1;", "SIDE_BUY = 1;\n  SIDE_PURCHASE = 1;"
        ),
        "1;\n}",  # the number of the renamed value
    ),
    Case(
        "EXTENSION_MESSAGE_NO_DELETE",
        BASE2,
        BASE2.replace("100 to 199", "100 to 149"),
        BASE2.replace("100 to 199", "100 to 299"),
        "message Base",
    ),
    Case(
        "EXTENSION_NO_DELETE",
        EXT,
        BASE2,
        EXT.replace("optional int32 tag = 100;", "optional int32 tag = 100;\n  optional string label = 101;"),
        None,
    ),
    Case(
        "FIELD_NO_DELETE",
        TICK,
        tick("  double bid = 3;\n", '  reserved 3;\n  reserved "bid";\n'),
        tick("int64 id = 4;", "int64 id = 4;\n  double ask = 5;"),
        "message TickData",
    ),
    Case(
        "FIELD_NO_DELETE_UNLESS_NAME_RESERVED",
        TICK,
        tick("  double bid = 3;\n", "  reserved 3;\n"),
        tick("  double bid = 3;\n", '  reserved "bid";\n'),
        "message TickData",
    ),
    Case(
        "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED",
        TICK,
        tick("  double bid = 3;\n", '  reserved "bid";\n'),
        tick("  double bid = 3;\n", "  reserved 3;\n"),
        "message TickData",
    ),
    Case(
        "FIELD_SAME_CARDINALITY",
        TICK,
        tick("int32 qty", "optional int32 qty"),
        tick("int32 qty", "int64 qty"),
        "optional int32 qty",
    ),
    Case(
        "FIELD_SAME_CPP_STRING_TYPE",
        NOTE2,
        NOTE2.replace("text = 1;", "text = 1 [ctype = CORD];"),
        NOTE2.replace("text = 1;", "text = 1 [ctype = STRING];"),
        "ctype = CORD",
    ),
    Case(
        "FIELD_SAME_DEFAULT",
        DEFAULTS,
        DEFAULTS.replace("default = 5", "default = 6"),
        DEFAULTS.replace("int32 qty", "int64 qty"),
        "default = 6",
    ),
    Case(
        "FIELD_SAME_JAVA_UTF8_VALIDATION",
        NOTE2,
        NOTE2.replace("\n\n", "\n\noption java_string_check_utf8 = true;\n\n", 1),
        NOTE2.replace("\n\n", "\n\noption java_string_check_utf8 = false;\n\n", 1),
        "option java_string_check_utf8",
    ),
    Case(
        "FIELD_SAME_JSON_NAME",
        TICK,
        tick("string symbol = 1;", 'string symbol = 1 [json_name = "ticker"];'),
        tick("string symbol = 1;", 'string symbol = 1 [json_name = "symbol"];'),
        "json_name",
    ),
    Case(
        "FIELD_SAME_JSTYPE",
        TICK,
        tick("int64 id = 4;", "int64 id = 4 [jstype = JS_STRING];"),
        tick("int64 id = 4;", "uint64 id = 4;"),
        "jstype = JS_STRING",
    ),
    Case("FIELD_SAME_NAME", TICK, tick("double bid", "double bid_price"), tick("double bid", "float bid"), "bid_price"),
    Case(
        "FIELD_SAME_ONEOF",
        TICK,
        tick("  double bid = 3;\n", "  oneof price {\n    double bid = 3;\n  }\n"),
        tick("int64 id = 4;", "int64 id = 4;\n  oneof price {\n    double ask = 5;\n  }"),
        "double bid",
    ),
    Case("FIELD_SAME_TYPE", TICK, tick("double bid", "float bid"), tick("double bid", "double bid_price"), "float bid"),
    Case(
        "FIELD_SAME_UTF8_VALIDATION",
        EDITION_NOTE,
        EDITION_NOTE.replace("text = 1;", "text = 1 [features.utf8_validation = NONE];"),
        EDITION_NOTE.replace("text = 1;", "text = 1 [features.utf8_validation = VERIFY];"),
        "features.utf8_validation",
    ),
    Case(
        "FIELD_WIRE_COMPATIBLE_CARDINALITY",
        TICK,
        tick("int32 qty", "repeated int32 qty"),
        tick("int32 qty", "optional int32 qty"),
        "repeated int32 qty",
    ),
    Case(
        "FIELD_WIRE_COMPATIBLE_TYPE",
        TICK,
        tick("int32 qty", "sint32 qty"),
        tick("int32 qty", "int64 qty"),
        "sint32 qty",
    ),
    Case(
        "FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY",
        TICK,
        tick("int32 qty", "repeated int32 qty"),
        tick("int32 qty", "optional int32 qty"),
        "repeated int32 qty",
    ),
    Case(
        "FIELD_WIRE_JSON_COMPATIBLE_TYPE",
        TICK,
        tick("int32 qty", "int64 qty"),
        tick("int32 qty", "uint32 qty"),
        "int64 qty",
    ),
    Case(
        "FILE_NO_DELETE",
        {"a.proto": SIDE, "b.proto": TICK},
        {"a.proto": SIDE},
        {"a.proto": SIDE, "b.proto": tick("double bid", "double bid_price")},
        None,
        path="",
    ),
    file_option_case("FILE_SAME_CC_ENABLE_ARENAS", "cc_enable_arenas", "false", "true"),
    file_option_case("FILE_SAME_CC_GENERIC_SERVICES", "cc_generic_services", "true", "false"),
    file_option_case("FILE_SAME_CSHARP_NAMESPACE", "csharp_namespace", '"Acme.V1"', '""'),
    file_option_case("FILE_SAME_GO_PACKAGE", "go_package", '"example.com/acme/v1;acmev1"', '""'),
    file_option_case("FILE_SAME_JAVA_GENERIC_SERVICES", "java_generic_services", "true", "false"),
    file_option_case("FILE_SAME_JAVA_MULTIPLE_FILES", "java_multiple_files", "true", "false"),
    file_option_case("FILE_SAME_JAVA_OUTER_CLASSNAME", "java_outer_classname", '"SideProto"', '""'),
    file_option_case("FILE_SAME_JAVA_PACKAGE", "java_package", '"com.acme.v1"', '""'),
    file_option_case("FILE_SAME_OBJC_CLASS_PREFIX", "objc_class_prefix", '"AXX"', '""'),
    file_option_case("FILE_SAME_OPTIMIZE_FOR", "optimize_for", "CODE_SIZE", "SPEED"),
    Case(
        "FILE_SAME_PACKAGE",
        SIDE,
        SIDE.replace("acme.v1", "acme.v2"),
        SIDE.replace("SIDE_BUY = 1;", "SIDE_BUY = 1;\n  SIDE_SELL = 2;"),
        "package acme.v2",
    ),
    file_option_case("FILE_SAME_PHP_CLASS_PREFIX", "php_class_prefix", '"Acme"', '""'),
    file_option_case("FILE_SAME_PHP_METADATA_NAMESPACE", "php_metadata_namespace", '"Acme\\\\Meta"', '""'),
    file_option_case("FILE_SAME_PHP_NAMESPACE", "php_namespace", '"Acme\\\\V1"', '""'),
    file_option_case("FILE_SAME_PY_GENERIC_SERVICES", "py_generic_services", "true", "false"),
    file_option_case("FILE_SAME_RUBY_PACKAGE", "ruby_package", '"Acme::V1"', '""'),
    file_option_case("FILE_SAME_SWIFT_PREFIX", "swift_prefix", '"AC"', '""'),
    Case(
        "FILE_SAME_SYNTAX",
        SIDE,
        SIDE.replace('"proto3"', '"proto2"'),
        SIDE.replace("SIDE_BUY = 1;", "SIDE_BUY = 1;\n  SIDE_SELL = 2;"),
        'syntax = "proto2"',
    ),
    Case(
        "MESSAGE_NO_DELETE",
        {"a.proto": TICK + "\nmessage Quote {}\n"},
        {"a.proto": TICK, "b.proto": P3 + "message Quote {}\n"},
        {"a.proto": TICK + "\nmessage Quote {\n  string venue = 1;\n}\n"},
        None,
    ),
    Case(
        "MESSAGE_NO_REMOVE_STANDARD_DESCRIPTOR_ACCESSOR",
        TICK,
        tick("{\n", "{\n  option no_standard_descriptor_accessor = true;\n"),
        tick("{\n", "{\n  option no_standard_descriptor_accessor = false;\n"),
        "option no_standard_descriptor_accessor",
    ),
    Case(
        "MESSAGE_SAME_JSON_FORMAT",
        EDITION_NOTE,
        EDITION_NOTE.replace("{\n", "{\n  option features.json_format = LEGACY_BEST_EFFORT;\n"),
        EDITION_NOTE.replace("{\n", "{\n  option features.json_format = ALLOW;\n"),
        "option features.json_format",
    ),
    Case(
        "MESSAGE_SAME_REQUIRED_FIELDS",
        NOTE2,
        NOTE2.replace("text = 1;", "text = 1;\n  required int32 qty = 2;"),
        NOTE2.replace("text = 1;", "text = 1;\n  optional int32 qty = 2;"),
        "required int32 qty",
    ),
    Case(
        "ONEOF_NO_DELETE",
        tick("  double bid = 3;\n", "  oneof price {\n    double bid = 3;\n  }\n"),
        TICK,
        tick("  double bid = 3;\n", "  oneof price {\n    double bid = 3;\n    double ask = 5;\n  }\n"),
        "message TickData",
    ),
    Case(
        "PACKAGE_ENUM_NO_DELETE",
        {"a.proto": SIDE, "b.proto": TICK + KIND},
        {"a.proto": P3 + "message Other {}\n", "b.proto": TICK + KIND},
        {"a.proto": P3 + "message Other {}\n", "b.proto": TICK + KIND + SIDE.replace(P3, "\n")},
        None,
    ),
    Case(
        "PACKAGE_EXTENSION_NO_DELETE",
        {"a.proto": EXT, "b.proto": OTHER_EXT},
        {"a.proto": BASE2, "b.proto": OTHER_EXT},
        {"a.proto": BASE2, "b.proto": OTHER_EXT + EXT.replace(BASE2, "")},
        None,
    ),
    Case(
        "PACKAGE_MESSAGE_NO_DELETE",
        {"a.proto": TICK, "b.proto": SIDE},
        {"a.proto": P3 + "message Other {}\n", "b.proto": SIDE},
        {"a.proto": P3 + "message Other {}\n", "b.proto": SIDE + TICK.replace(P3, "\n")},
        None,
    ),
    Case(
        "PACKAGE_NO_DELETE",
        {"a.proto": SIDE, "billing.proto": TICK.replace("acme.v1", "acme.billing.v1")},
        {"a.proto": SIDE},
        {"a.proto": SIDE, "billing/v1/tick.proto": TICK.replace("acme.v1", "acme.billing.v1")},
        None,
        path="",
    ),
    Case(
        "PACKAGE_SERVICE_NO_DELETE",
        {"a.proto": ORDERS, "b.proto": SIDE},
        {"a.proto": ORDERS.split("\nservice")[0] + "\n", "b.proto": SIDE},
        {
            "a.proto": ORDERS.split("\nservice")[0] + "\n",
            "b.proto": SIDE + '\nimport "a.proto";\n\nservice' + ORDERS.split("\nservice")[1],
        },
        None,
    ),
    Case(
        "RESERVED_ENUM_NO_DELETE",
        ENUM_RESERVED,
        ENUM_RESERVED.replace("5 to 9", "5 to 7"),
        ENUM_RESERVED.replace("5 to 9", "5 to 10"),
        "enum Side",
    ),
    Case(
        "RESERVED_MESSAGE_NO_DELETE",
        RESERVED,
        RESERVED.replace("reserved 4, 8 to 10;", "reserved 8 to 10;"),
        RESERVED.replace("reserved 4, 8 to 10;", "reserved 4 to 10;"),
        "message Quote",
    ),
    Case(
        "RPC_NO_DELETE",
        ORDERS,
        ORDERS.replace("  rpc Cancel(PutRequest) returns (PutReply);\n", ""),
        ORDERS.replace("rpc Cancel", "rpc Amend(PutRequest) returns (PutReply);\n  rpc Cancel"),
        "service Orders",
    ),
    Case(
        "RPC_SAME_CLIENT_STREAMING",
        ORDERS,
        ORDERS.replace("Put(PutRequest)", "Put(stream PutRequest)"),
        ORDERS.replace("Put(PutRequest) returns (PutReply)", "Put(PutRequest) returns (stream PutReply)"),
        "rpc Put",
    ),
    Case(
        "RPC_SAME_IDEMPOTENCY_LEVEL",
        ORDERS,
        ORDERS.replace(
            "returns (PutReply);\n  rpc Cancel",
            "returns (PutReply) {\n    option idempotency_level = IDEMPOTENT;\n  }\n  rpc Cancel",
        ),
        ORDERS.replace(
            "returns (PutReply);\n  rpc Cancel",
            "returns (PutReply) {\n    option idempotency_level = IDEMPOTENCY_UNKNOWN;\n  }\n  rpc Cancel",
        ),
        "option idempotency_level",
    ),
    Case(
        "RPC_SAME_REQUEST_TYPE",
        ORDERS,
        ORDERS.replace("Put(PutRequest)", "Put(PutReply)"),
        ORDERS.replace("Put(PutRequest) returns (PutReply)", "Put(PutRequest) returns (PutRequest)"),
        "PutReply) returns (PutReply);\n  rpc Cancel",
    ),
    Case(
        "RPC_SAME_RESPONSE_TYPE",
        ORDERS,
        ORDERS.replace("returns (PutReply);\n  rpc Cancel", "returns (PutRequest);\n  rpc Cancel"),
        ORDERS.replace("Put(PutRequest)", "Put(PutReply)"),
        "PutRequest);\n  rpc Cancel",
    ),
    Case(
        "RPC_SAME_SERVER_STREAMING",
        ORDERS,
        ORDERS.replace("Put(PutRequest) returns (PutReply)", "Put(PutRequest) returns (stream PutReply)"),
        ORDERS.replace("Put(PutRequest)", "Put(stream PutRequest)"),
        "rpc Put",
    ),
    Case(
        "SERVICE_NO_DELETE",
        ORDERS,
        ORDERS.split("\nservice")[0] + "\n",
        ORDERS.replace("rpc Cancel", "rpc Amend(PutRequest) returns (PutReply);\n  rpc Cancel"),
        None,
    ),
]
