"""Every lint rule has a fixture it must flag, at a given file, line and column, and one it must accept."""

from dataclasses import dataclass

import pytest

from protoengine.lint import LINT_RULES
from tests.unit.protoengine.lint.helpers import OPTIONS_PATH, OPTIONS_TEXT, places, proto3, run

A = "a/v1/a.proto"
B = "a/v1/b.proto"


@dataclass
class Case:
    bad: dict[str, str]
    expected: list[tuple[str, int, int]]
    good: dict[str, str]


def one(*lines: str, package: str = "a.v1") -> dict[str, str]:
    return {A: proto3(package, *lines)}


def proto2(*lines: str) -> dict[str, str]:
    return {A: "\n".join(['syntax = "proto2";', "package a.v1;", *lines]) + "\n"}


def two_files(line_a: str, line_b: str) -> dict[str, str]:
    return {A: proto3("a.v1", line_a), B: proto3("a.v1", line_b)}


ORDER_SERVICE = ("message GetOrderRequest {}", "message GetOrderResponse {}", "service OrderService {")
PII = f'import "{OPTIONS_PATH}";'
COMMENTED = (
    "// Level says how risky something is.",
    "enum Level {",
    "  // Nobody said.",
    "  LEVEL_UNSPECIFIED = 0;",
    "}",
    "// Order is a request to trade.",
    "message Order {",
    "  // What kind of order.",
    "  oneof kind {",
    "    // A limit price.",
    "    string limit = 1;",
    "  }",
    "}",
    "// OrderService takes orders.",
    "service OrderService {",
    "  // Place an order.",
    "  rpc Place(Order) returns (Order);",
    "}",
)
# For each COMMENT_* rule, the index in COMMENTED of the comment whose removal it must notice.
UNCOMMENTED = {
    "COMMENT_ENUM": 0,
    "COMMENT_ENUM_VALUE": 2,
    "COMMENT_MESSAGE": 5,
    "COMMENT_ONEOF": 7,
    "COMMENT_FIELD": 9,
    "COMMENT_SERVICE": 13,
    "COMMENT_RPC": 15,
}


def without_line(lines: tuple[str, ...], index: int) -> tuple[str, ...]:
    return lines[:index] + lines[index + 1 :]


def same_option_case(bad_a: str, bad_b: str, good: str) -> Case:
    return Case(two_files(bad_a, bad_b), [(A, 3, 1), (B, 3, 1)], two_files(good, good))


def comment_case(rule_id: str) -> Case:
    index = UNCOMMENTED[rule_id]
    # The element that lost its comment now starts on the line the comment held (+2 for syntax and package).
    column = len(COMMENTED[index + 1]) - len(COMMENTED[index + 1].lstrip()) + 1
    return Case(one(*without_line(COMMENTED, index)), [(A, index + 3, column)], one(*COMMENTED))


CASES = {
    "DIRECTORY_SAME_PACKAGE": Case(
        {A: proto3("a.v1"), B: proto3("b.v1")}, [(A, 2, 1), (B, 2, 1)], {A: proto3("a.v1"), B: proto3("a.v1")}
    ),
    "PACKAGE_DEFINED": Case(
        {"a.proto": 'syntax = "proto3";\nmessage A {}\n'}, [("a.proto", 1, 1)], {"a.proto": proto3("a.v1")}
    ),
    "PACKAGE_DIRECTORY_MATCH": Case({"a/a.proto": proto3("a.v1")}, [("a/a.proto", 2, 1)], {A: proto3("a.v1")}),
    "PACKAGE_NO_IMPORT_CYCLE": Case(
        {
            "a/v1/a1.proto": proto3("a.v1", 'import "b/v1/b.proto";', "message A1 { b.v1.B b = 1; }"),
            "a/v1/a2.proto": proto3("a.v1", "message A2 {}"),
            "b/v1/b.proto": proto3("b.v1", 'import "a/v1/a2.proto";', "message B { a.v1.A2 a2 = 1; }"),
        },
        [("a/v1/a1.proto", 3, 1), ("b/v1/b.proto", 3, 1)],
        {
            "a/v1/a1.proto": proto3("a.v1", "message A1 {}"),
            "a/v1/a2.proto": proto3("a.v1", "message A2 {}"),
            "b/v1/b.proto": proto3("b.v1", 'import "a/v1/a2.proto";', "message B { a.v1.A2 a2 = 1; }"),
        },
    ),
    "PACKAGE_SAME_DIRECTORY": Case(
        {A: proto3("a.v1"), "b/v1/b.proto": proto3("a.v1")},
        [(A, 2, 1), ("b/v1/b.proto", 2, 1)],
        {A: proto3("a.v1"), B: proto3("a.v1")},
    ),
    "FILE_LOWER_SNAKE_CASE": Case(
        {"a/v1/OrderBook.proto": proto3("a.v1")},
        [("a/v1/OrderBook.proto", 1, 1)],
        {"a/v1/order_book.proto": proto3("a.v1")},
    ),
    "IMPORT_NO_PUBLIC": Case(
        {A: proto3("a.v1", f'import public "{B}";'), B: proto3("a.v1", "message B {}")},
        [(A, 3, 1)],
        {A: proto3("a.v1", f'import "{B}";', "message A { B b = 1; }"), B: proto3("a.v1", "message B {}")},
    ),
    "IMPORT_NO_WEAK": Case(
        {A: proto3("a.v1", f'import weak "{B}";'), B: proto3("a.v1", "message B {}")},
        [(A, 3, 1)],
        {A: proto3("a.v1", f'import "{B}";', "message A { B b = 1; }"), B: proto3("a.v1", "message B {}")},
    ),
    "IMPORT_USED": Case(
        one('import "google/protobuf/timestamp.proto";', "message A {}"),
        [(A, 3, 1)],
        one('import "google/protobuf/timestamp.proto";', "message A { google.protobuf.Timestamp at = 1; }"),
    ),
    "PACKAGE_LOWER_SNAKE_CASE": Case(one(package="Trading.v1"), [(A, 2, 1)], one(package="trading.v1")),
    "PACKAGE_VERSION_SUFFIX": Case(one(package="trading"), [(A, 2, 1)], one(package="trading.v1beta1")),
    "SYNTAX_SPECIFIED": Case({A: "package a.v1;\nmessage A {}\n"}, [(A, 1, 1)], proto2("message A {}")),
    "RPC_REQUEST_RESPONSE_UNIQUE": Case(
        one(
            *ORDER_SERVICE,
            "  rpc GetOrder(GetOrderRequest) returns (GetOrderResponse);",
            "  rpc FetchOrder(GetOrderRequest) returns (FetchOrderResponse);",
            "}",
            "message FetchOrderResponse {}",
        ),
        [(A, 6, 3), (A, 7, 3)],
        one(*ORDER_SERVICE, "  rpc GetOrder(GetOrderRequest) returns (GetOrderResponse);", "}"),
    ),
    "PACKAGE_SAME_CSHARP_NAMESPACE": same_option_case(
        'option csharp_namespace = "A.V1";', 'option csharp_namespace = "B.V1";', 'option csharp_namespace = "A.V1";'
    ),
    "PACKAGE_SAME_GO_PACKAGE": same_option_case(
        'option go_package = "example.com/a/v1";',
        'option go_package = "example.com/b/v1";',
        'option go_package = "example.com/a/v1";',
    ),
    "PACKAGE_SAME_JAVA_MULTIPLE_FILES": same_option_case(
        "option java_multiple_files = true;",
        "option java_multiple_files = false;",
        "option java_multiple_files = true;",
    ),
    "PACKAGE_SAME_JAVA_PACKAGE": same_option_case(
        'option java_package = "com.example.a.v1";',
        'option java_package = "com.example.b.v1";',
        'option java_package = "com.example.a.v1";',
    ),
    "PACKAGE_SAME_PHP_NAMESPACE": same_option_case(
        'option php_namespace = "A\\\\V1";', 'option php_namespace = "B\\\\V1";', 'option php_namespace = "A\\\\V1";'
    ),
    "PACKAGE_SAME_RUBY_PACKAGE": same_option_case(
        'option ruby_package = "A::V1";', 'option ruby_package = "B::V1";', 'option ruby_package = "A::V1";'
    ),
    "PACKAGE_SAME_SWIFT_PREFIX": same_option_case(
        'option swift_prefix = "AV1";', 'option swift_prefix = "BV1";', 'option swift_prefix = "AV1";'
    ),
    "ENUM_FIRST_VALUE_ZERO": Case(
        proto2("enum Level {", "  LEVEL_ONE = 1;", "  LEVEL_UNSPECIFIED = 0;", "}"),
        [(A, 4, 15)],
        proto2("enum Level {", "  LEVEL_UNSPECIFIED = 0;", "  LEVEL_ONE = 1;", "}"),
    ),
    "ENUM_NO_ALLOW_ALIAS": Case(
        one("enum Level {", "  option allow_alias = true;", "  LEVEL_UNSPECIFIED = 0;", "  LEVEL_NONE = 0;", "}"),
        [(A, 4, 3)],
        one("enum Level {", "  LEVEL_UNSPECIFIED = 0;", "  LEVEL_NONE = 1;", "}"),
    ),
    "ENUM_PASCAL_CASE": Case(
        one("enum level {", "  LEVEL_UNSPECIFIED = 0;", "}"),
        [(A, 3, 6)],
        one("enum HTTPLevel {", "  HTTP_LEVEL_UNSPECIFIED = 0;", "}"),
    ),
    "ENUM_VALUE_UPPER_SNAKE_CASE": Case(
        one("enum Level {", "  LEVEL_unspecified = 0;", "}"),
        [(A, 4, 3)],
        one("enum Level {", "  LEVEL_UNSPECIFIED = 0;", "  LEVEL_V1BETA1 = 1;", "}"),
    ),
    "ENUM_VALUE_PREFIX": Case(
        one("enum RiskLevel {", "  RISK_LEVEL_UNSPECIFIED = 0;", "  HIGH = 1;", "}"),
        [(A, 5, 3)],
        one("enum RiskLevel {", "  RISK_LEVEL_UNSPECIFIED = 0;", "  RISK_LEVEL_HIGH = 1;", "}"),
    ),
    "ENUM_ZERO_VALUE_SUFFIX": Case(
        one("enum Level {", "  LEVEL_NONE = 0;", "}"), [(A, 4, 3)], one("enum Level {", "  LEVEL_UNSPECIFIED = 0;", "}")
    ),
    "FIELD_LOWER_SNAKE_CASE": Case(
        one("message Order {", "  string orderId = 1;", "}"),
        [(A, 4, 10)],
        one(
            "message Order {",
            "  string order_id = 1;",
            "  map<string, string> labels = 2;",
            "  string sma_20 = 3;",
            "}",
        ),
    ),
    "FIELD_NOT_REQUIRED": Case(
        proto2("message Order {", "  required string order_id = 1;", "}"),
        [(A, 4, 19)],
        proto2("message Order {", "  optional string order_id = 1;", "}"),
    ),
    "MESSAGE_PASCAL_CASE": Case(
        one("message order_book {}"), [(A, 3, 9)], one("message OrderBook {", "  map<string, int64> levels = 1;", "}")
    ),
    "ONEOF_LOWER_SNAKE_CASE": Case(
        one("message Order {", "  oneof Kind {", "    string limit = 1;", "  }", "}"),
        [(A, 4, 9)],
        one("message Order {", "  oneof kind {", "    string limit = 1;", "  }", "  optional string note = 2;", "}"),
    ),
    "RPC_PASCAL_CASE": Case(
        one(*ORDER_SERVICE, "  rpc get_order(GetOrderRequest) returns (GetOrderResponse);", "}"),
        [(A, 6, 7)],
        one(*ORDER_SERVICE, "  rpc GetOrder(GetOrderRequest) returns (GetOrderResponse);", "}"),
    ),
    "RPC_REQUEST_STANDARD_NAME": Case(
        one(
            "message Query {}",
            "message GetOrderResponse {}",
            "service OrderService {",
            "  rpc GetOrder(Query) returns (GetOrderResponse);",
            "}",
        ),
        [(A, 6, 16)],
        one(
            "message OrderServiceGetOrderRequest {}",
            "message GetOrderResponse {}",
            "service OrderService {",
            "  rpc GetOrder(OrderServiceGetOrderRequest) returns (GetOrderResponse);",
            "}",
        ),
    ),
    "RPC_RESPONSE_STANDARD_NAME": Case(
        one(
            "message GetOrderRequest {}",
            "message Order {}",
            "service OrderService {",
            "  rpc GetOrder(GetOrderRequest) returns (Order);",
            "}",
        ),
        [(A, 6, 42)],
        one(*ORDER_SERVICE, "  rpc GetOrder(GetOrderRequest) returns (GetOrderResponse);", "}"),
    ),
    "SERVICE_PASCAL_CASE": Case(one("service order_service {}"), [(A, 3, 9)], one("service OrderService {}")),
    "SERVICE_SUFFIX": Case(one("service Orders {}"), [(A, 3, 9)], one("service OrdersService {}")),
    "RPC_NO_CLIENT_STREAMING": Case(
        one(*ORDER_SERVICE, "  rpc GetOrder(stream GetOrderRequest) returns (GetOrderResponse);", "}"),
        [(A, 6, 3)],
        one(*ORDER_SERVICE, "  rpc GetOrder(GetOrderRequest) returns (stream GetOrderResponse);", "}"),
    ),
    "RPC_NO_SERVER_STREAMING": Case(
        one(*ORDER_SERVICE, "  rpc GetOrder(GetOrderRequest) returns (stream GetOrderResponse);", "}"),
        [(A, 6, 3)],
        one(*ORDER_SERVICE, "  rpc GetOrder(stream GetOrderRequest) returns (GetOrderResponse);", "}"),
    ),
    **{rule_id: comment_case(rule_id) for rule_id in UNCOMMENTED},
    "MESSAGE_TENANT_ID": Case(
        {"trading/v1/a.proto": proto3("trading.v1", "message Order {", "  string order_id = 1;", "}")},
        [("trading/v1/a.proto", 3, 9)],
        {
            "trading/v1/a.proto": proto3(
                "trading.v1", "message Order {", "  string tenant_id = 1;", "  message Leg {}", "}"
            ),
            "common/v1/a.proto": proto3("common.v1", "message Money {}"),
        },
    ),
    "FIELD_PII_ANNOTATED": Case(
        one("message User {", "  string email = 1;", "}"),
        [(A, 4, 10)],
        {
            OPTIONS_PATH: OPTIONS_TEXT,
            A: proto3(
                "a.v1",
                PII,
                "message User {",
                "  string email = 1 [(registry.v1.pii) = true, (registry.v1.classification) = "
                "DATA_CLASSIFICATION_CONFIDENTIAL];",
                "  string model_name = 2;",
                "}",
            ),
        },
    ),
    "FIELD_DEPRECATED_MARKED": Case(
        one("message User {", "  // Deprecated: use handle.", "  string nick = 1;", "}"),
        [(A, 5, 10)],
        one(
            "message User {",
            "  // Deprecated: use handle.",
            "  string nick = 1 [deprecated = true];",
            "  // Not deprecated at all.",
            "  string handle = 2;",
            "}",
        ),
    ),
}


def test_every_rule_has_fixtures():
    assert set(CASES) == set(LINT_RULES)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_each_rule_flags_its_bad_fixture_at_the_right_place(rule_id):
    case = CASES[rule_id]
    assert places(run(rule_id, case.bad)) == [(rule_id, path, line, column) for path, line, column in case.expected]


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_each_rule_accepts_its_good_fixture(rule_id):
    assert run(rule_id, CASES[rule_id].good) == []


def test_field_not_required_also_sees_editions_legacy_required():
    text = (
        'edition = "2023";\npackage a.v1;\nmessage Order {\n  string order_id = 1 [features.field_presence = '
        "LEGACY_REQUIRED];\n  string note = 2;\n}\n"
    )
    assert [(f.line, f.column, f.message) for f in run("FIELD_NOT_REQUIRED", {A: text})] == [
        (4, 10, 'Field named "order_id" should not be required.')
    ]
