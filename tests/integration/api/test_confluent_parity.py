"""What a client migrating from Confluent Schema Registry or Karapace relies on, request in and answer out."""

import pytest

from tests.integration.api.helpers import (
    MONEY,
    ORDER_WITH_MONEY,
    TICK_V1,
    TICK_V2_CHANGES_TYPE,
    descriptor_base64,
    post,
    put,
    register,
)

pytestmark = pytest.mark.django_db

ADDRESS_BOOK = """syntax = "proto3";
package crm.v1;

import "google/type/color.proto";
import "google/type/money.proto";
import "google/type/postal_address.proto";

message Customer {
  string name = 1;
  google.type.PostalAddress address = 2;
  google.type.Money credit = 3;
  google.type.Color favourite = 4;
}
"""

EVERY_COMMON_TYPE = """syntax = "proto3";
package crm.v1;

import "google/type/calendar_period.proto";
import "google/type/color.proto";
import "google/type/date.proto";
import "google/type/datetime.proto";
import "google/type/dayofweek.proto";
import "google/type/decimal.proto";
import "google/type/expr.proto";
import "google/type/fraction.proto";
import "google/type/interval.proto";
import "google/type/latlng.proto";
import "google/type/money.proto";
import "google/type/month.proto";
import "google/type/phone_number.proto";
import "google/type/postal_address.proto";
import "google/type/quaternion.proto";
import "google/type/timeofday.proto";

message Everything {
  google.type.CalendarPeriod period = 1;
  google.type.Color color = 2;
  google.type.Date date = 3;
  google.type.DateTime date_time = 4;
  google.type.DayOfWeek day = 5;
  google.type.Decimal decimal = 6;
  google.type.Expr expr = 7;
  google.type.Fraction fraction = 8;
  google.type.Interval interval = 9;
  google.type.LatLng where = 10;
  google.type.Money money = 11;
  google.type.Month month = 12;
  google.type.PhoneNumber phone = 13;
  google.type.PostalAddress address = 14;
  google.type.Quaternion rotation = 15;
  google.type.TimeOfDay time = 16;
}
"""


# Finding 1: Google's common types are imported without references, as on Confluent.


def test_a_schema_importing_googles_common_types_registers_without_references(api):
    response = register(api, "customers-value", ADDRESS_BOOK)
    assert response.status_code == 200, response.content
    assert register(api, "everything-value", EVERY_COMMON_TYPE).status_code == 200
    assert api.get("/subjects/customers-value/versions/1").json().get("references", []) == []
    assert "google/type/money.proto" not in api.get("/subjects").json()


def test_common_types_take_part_in_compatibility_lookup_and_normalisation(api):
    register(api, "customers-value", ADDRESS_BOOK)
    changed = ADDRESS_BOOK.replace("google.type.Money credit = 3;", "google.type.Color credit = 3;")
    verdict = post(api, "/compatibility/subjects/customers-value/versions/latest?verbose=true", {"schema": changed})
    assert verdict.status_code == 200 and verdict.json()["is_compatible"] is False
    assert post(api, "/subjects/customers-value", {"schema": ADDRESS_BOOK}).json()["version"] == 1
    normalised = register(api, "normalised-value", ADDRESS_BOOK, normalize="true")
    assert normalised.status_code == 200, normalised.content
    text = api.get(f"/schemas/ids/{normalised.json()['id']}").json()["schema"]
    assert 'import "google/type/money.proto";' in text and "google.type.PostalAddress address = 2;" in text


def test_googles_other_files_are_not_built_in(api):
    response = register(api, "api-value", 'syntax = "proto3";\nimport "google/api/http.proto";\nmessage A {}\n')
    assert response.status_code == 422 and response.json()["error_code"] == 42201


def test_a_common_type_cannot_be_replaced_by_a_reference(api):
    register(api, "fake-money", 'syntax = "proto3";\npackage google.type;\nmessage Money { string x = 1; }\n')
    response = register(
        api,
        "wallet-value",
        'syntax = "proto3";\nimport "google/type/money.proto";\nmessage Wallet { google.type.Money cash = 1; }\n',
        references=[{"name": "google/type/money.proto", "subject": "fake-money", "version": 1}],
    )
    assert response.status_code == 422 and response.json()["error_code"] == 42201


# Finding 2: a schema is what it compiles to, with its comments; layout does not make another schema.

DOCUMENTED_TICK = """syntax = "proto3";
package trading.v1;

// One price update of an instrument.
message TickData {
  string symbol = 1; // Exchange ticker.
  double bid = 2;
  double ask = 3;
}
"""
RELAID_TICK = (
    'syntax="proto3";  package trading.v1;\n\n\n// One price update of an instrument.\n'
    "message TickData {\n\tstring symbol=1; // Exchange ticker.\n\tdouble bid = 2; double ask = 3;\n}"
)


def test_the_same_schema_laid_out_differently_keeps_its_id_and_version(api):
    schema_id = register(api, "ticks-value", DOCUMENTED_TICK).json()["id"]
    assert register(api, "ticks-value", RELAID_TICK).json()["id"] == schema_id
    assert api.get("/subjects/ticks-value/versions").json() == [1]
    found = post(api, "/subjects/ticks-value", {"schema": RELAID_TICK})
    assert found.status_code == 200 and (found.json()["id"], found.json()["version"]) == (schema_id, 1)
    assert register(api, "other-value", RELAID_TICK).json()["id"] == schema_id
    assert api.get(f"/schemas/ids/{schema_id}").json()["schema"] == DOCUMENTED_TICK


def test_text_after_its_descriptor_and_a_descriptor_after_its_text_are_the_same_schema(api):
    first = register(api, "from-descriptor-value", descriptor_base64(DOCUMENTED_TICK)).json()["id"]
    assert register(api, "from-descriptor-value", DOCUMENTED_TICK).json()["id"] == first
    assert post(api, "/subjects/from-descriptor-value", {"schema": RELAID_TICK}).json()["version"] == 1
    assert api.get("/subjects/from-descriptor-value/versions").json() == [1]
    second = register(api, "from-text-value", DOCUMENTED_TICK).json()["id"]
    assert register(api, "from-text-value", descriptor_base64(DOCUMENTED_TICK)).json()["id"] == second
    assert api.get("/subjects/from-text-value/versions").json() == [1]


def test_a_comment_only_change_is_a_new_patch_version_unless_normalised(api):
    first = register(api, "ticks-value", DOCUMENTED_TICK).json()["id"]
    recommented = DOCUMENTED_TICK.replace("// Exchange ticker.", "// Ticker on the exchange.")
    assert register(api, "ticks-value", recommented, normalize="true").json()["id"] == first
    assert api.get("/subjects/ticks-value/versions").json() == [1]
    second = register(api, "ticks-value", recommented).json()["id"]
    assert second != first
    latest = api.get("/subjects/ticks-value/versions/latest").json()
    assert (latest["version"], latest["semanticVersion"]) == (2, "1.0.1")
    assert post(api, "/subjects/ticks-value?normalize=true", {"schema": RELAID_TICK}).json()["version"] == 1


# Finding 3: normalised text is laid out as Confluent's printer lays it out.

CONFLUENT_NORMALISED = """syntax = "proto3";
package trading.v1;

import "common/money.proto";
import "google/protobuf/timestamp.proto";

option go_package = "example.com/trading/v1";
option java_package = "com.example.trading.v1";

message Order {
  reserved 9;
  reserved 12 to 15;
  reserved "old_price";

  option deprecated = true;

  .common.v1.Money price = 1 [
    deprecated = true,
    json_name = "cost"
  ];
  string order_id = 2;
  map<string, .common.v1.Money> legs = 3;
  optional int32 quantity = 6;
  .google.protobuf.Timestamp placed_at = 7;

  oneof venue {
    int32 venue_id = 4;
    string venue_name = 5;
  }

  message Fill {
    int32 quantity = 1;
    .trading.v1.Order.Side side = 2;
  }
  enum Side {
    SIDE_UNSPECIFIED = 0;
    SIDE_BUY = 1;
  }
}
message Ack {}
enum Status {
  STATUS_UNSPECIFIED = 0;
  STATUS_OPEN = 1 [deprecated = true];
}

service OrderService {
  rpc Place (.trading.v1.Order) returns (.trading.v1.Ack);
  rpc Watch (.trading.v1.Ack) returns (stream .trading.v1.Order) {
    option deprecated = true;
  };
}
"""
MESSY_ORDER = """syntax = "proto3";

package trading.v1;
import "google/protobuf/timestamp.proto";
import "common/money.proto";
option java_package = "com.example.trading.v1";
option go_package = "example.com/trading/v1";

// Comments go.
message Order {
  option deprecated = true;
  reserved "old_price";
  reserved 12 to 15, 9;
  string order_id = 2;
  common.v1.Money price = 1 [json_name = "cost", deprecated = true];
  oneof venue { string venue_name = 5; int32 venue_id = 4; }
  map<string, common.v1.Money> legs = 3;
  enum Side { SIDE_UNSPECIFIED = 0; SIDE_BUY = 1; }
  message Fill { int32 quantity = 1; Side side = 2; }
  optional int32 quantity = 6;
  google.protobuf.Timestamp placed_at = 7;
}

enum Status { STATUS_UNSPECIFIED = 0; STATUS_OPEN = 1 [deprecated = true]; }
message Ack {}
service OrderService {
  rpc Place(Order) returns (Ack);
  rpc Watch(Ack) returns (stream Order) { option deprecated = true; }
}
"""
MONEY_REFERENCE = {"name": "common/money.proto", "subject": "common/money.proto", "version": 1}


def test_normalised_text_reads_back_byte_for_byte_in_confluents_layout(api):
    register(api, "common/money.proto", MONEY)
    schema_id = register(api, "orders-value", CONFLUENT_NORMALISED, [MONEY_REFERENCE], normalize="true").json()["id"]
    assert api.get(f"/schemas/ids/{schema_id}").json()["schema"] == CONFLUENT_NORMALISED
    messy = register(api, "messy-value", MESSY_ORDER, [MONEY_REFERENCE], normalize="true")
    assert messy.json()["id"] == schema_id
    assert put(api, "/config/configured-value", {"normalize": True}).status_code == 200
    configured = register(api, "configured-value", MESSY_ORDER, [MONEY_REFERENCE]).json()["id"]
    assert api.get(f"/schemas/ids/{configured}").json()["schema"] == CONFLUENT_NORMALISED


# Finding 4: "references": null is an empty list.


def test_null_references_are_an_empty_list(api):
    response = post(api, "/subjects/money-value/versions", {"schema": MONEY, "references": None})
    assert response.status_code == 200, response.content
    lookup = post(api, "/subjects/money-value", {"schema": MONEY, "references": None})
    assert lookup.status_code == 200 and lookup.json()["version"] == 1
    check = post(api, "/compatibility/subjects/money-value/versions/latest", {"schema": MONEY, "references": None})
    assert check.status_code == 200 and check.json()["is_compatible"] is True


# Finding 5: error messages are Confluent's, letter for letter, where Confluent has one.


def error_of(response) -> tuple[int, int, str]:
    body = response.json()
    return response.status_code, body["error_code"], body["message"]


def test_deleting_a_referenced_version_answers_confluents_exact_message(api):
    register(api, "common/money.proto", MONEY)
    reference = {"name": "common/money.proto", "subject": "common/money.proto", "version": 1}
    assert register(api, "orders-value", ORDER_WITH_MONEY, [reference]).status_code == 200
    expected = (
        "One or more references exist to the schema {magic=1,keytype=SCHEMA,subject=common/money.proto,version=1}."
    )
    assert error_of(api.delete("/subjects/common%2Fmoney.proto/versions/1")) == (422, 42206, expected)
    assert error_of(api.delete("/subjects/common%2Fmoney.proto")) == (422, 42206, expected)


def test_configuration_and_mode_errors_answer_confluents_exact_messages(api):
    level = (
        "Invalid compatibility level. Valid values are none, backward, forward, full, "
        "backward_transitive, forward_transitive, and full_transitive"
    )
    assert error_of(put(api, "/config", {"compatibility": "SIDEWAYS"})) == (422, 42203, level)
    mode = "Invalid mode. Valid values are READWRITE, READONLY, and IMPORT."
    assert error_of(put(api, "/mode", {"mode": "WRITEONLY"})) == (422, 42204, mode)


def test_unknown_schema_ids_and_guids_are_named_in_the_message(api):
    assert error_of(api.get("/schemas/ids/424242")) == (404, 40403, "Schema 424242 not found")
    guid = "0d6e2c1a-5a8b-4c55-9f43-3b0f1d2b9a11"
    assert error_of(api.get(f"/schemas/guids/{guid}")) == (404, 40403, f"Schema {guid} not found")
    register(api, "money-value", MONEY)
    assert error_of(post(api, "/subjects/money-value", {"schema": TICK_V1})) == (404, 40403, "Schema not found")


def test_an_incompatible_schema_answers_confluents_code_and_message_shape(api):
    assert put(api, "/config/ticks-value", {"reviewPolicy": "none"}).status_code == 200  # Confluent's behaviour
    register(api, "ticks-value", TICK_V1)
    status, code, message = error_of(register(api, "ticks-value", TICK_V2_CHANGES_TYPE))
    assert (status, code) == (409, 40901)
    prefix = 'Schema being registered is incompatible with an earlier schema for subject "ticks-value", details: ['
    assert message.startswith(prefix) and message.endswith("]") and '"bid"' in message


def test_subject_name_import_mode_and_size_errors_answer_confluents_exact_messages(api, settings):
    assert error_of(register(api, "bad%01name", MONEY)) == (
        422,
        42208,
        "The specified subject 'bad\x01name' is not a valid.",
    )
    given_id = post(api, "/subjects/money-value/versions", {"schema": MONEY, "id": 77})
    assert error_of(given_id) == (422, 42205, "Subject money-value is not in import mode")
    settings.REGISTRY_MAX_SCHEMA_BYTES = 10
    too_large = register(api, "money-value", MONEY)
    assert error_of(too_large) == (422, 42209, "Register operation failed because schema is too large")
    assert too_large.json()["details"] == [{"size": len(MONEY.encode()), "limit": 10}]


# Finding 6: the CONFLUENT rule set accepts what Confluent accepts, with a finding saying why protoc refuses it.

ORDER_IMPORTING_BY_ANOTHER_NAME = """syntax = "proto3";
package trading.v1;

import "money.proto";

message Order {
  string order_id = 1;
  common.v1.Money price = 2 [(acme.v1.sensitive) = true, deprecated = true];
  option (acme.v1.owner) = "payments";
}
"""


def test_the_confluent_rule_set_accepts_what_confluent_accepts_and_says_why_protoc_would_not(api):
    register(api, "common/money.proto", MONEY)
    assert put(api, "/config/orders-value", {"compatibilityRules": "CONFLUENT"}).status_code == 200
    response = register(api, "orders-value", ORDER_IMPORTING_BY_ANOTHER_NAME, [MONEY_REFERENCE])
    assert response.status_code == 200, response.content
    schema_id = response.json()["id"]
    assert api.get(f"/schemas/ids/{schema_id}").json()["schema"] == ORDER_IMPORTING_BY_ANOTHER_NAME
    findings = api.get("/schemas/orders-value").json()["lintFindings"]
    refusals = [(f["line"], f["column"]) for f in findings if f["rule"] == "PROTOC_REFUSES"]
    assert (8, 3) in refusals and (8, 30) in refusals and (9, 10) in refusals
    assert any('"common.v1.Money" is not defined' in f["message"] for f in findings)
    # Later versions compare against it, and its descriptor is served.
    assert (
        register(
            api, "orders-value", ORDER_IMPORTING_BY_ANOTHER_NAME + "message Extra {}\n", [MONEY_REFERENCE]
        ).status_code
        == 200
    )
    assert api.get("/subjects/orders-value/versions/1?format=serialized").status_code == 200
    assert (
        post(
            api, "/subjects/orders-value", {"schema": ORDER_IMPORTING_BY_ANOTHER_NAME, "references": [MONEY_REFERENCE]}
        ).json()["version"]
        == 1
    )


def test_our_own_rule_sets_keep_refusing_what_protoc_refuses(api):
    register(api, "common/money.proto", MONEY)
    for rules in ("SPEC", "WIRE_JSON"):
        assert put(api, "/config/orders-value", {"compatibilityRules": rules}).status_code == 200
        response = register(api, "orders-value", ORDER_IMPORTING_BY_ANOTHER_NAME, [MONEY_REFERENCE])
        assert response.status_code == 422 and response.json()["error_code"] == 42201


def test_the_confluent_rule_set_still_refuses_what_confluent_refuses(api):
    assert put(api, "/config/orders-value", {"compatibilityRules": "CONFLUENT"}).status_code == 200
    undefined = 'syntax = "proto3";\npackage trading.v1;\nmessage Order { common.v1.Nowhere price = 1; }\n'
    response = register(api, "orders-value", undefined)
    assert response.status_code == 422 and "common.v1.Nowhere" in response.json()["message"]
