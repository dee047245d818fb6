"""What a client migrating from Confluent Schema Registry or Karapace relies on, request in and answer out."""

import pytest

from tests.integration.api.helpers import MONEY, post, register

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


# Finding 4: "references": null is an empty list.


def test_null_references_are_an_empty_list(api):
    response = post(api, "/subjects/money-value/versions", {"schema": MONEY, "references": None})
    assert response.status_code == 200, response.content
    lookup = post(api, "/subjects/money-value", {"schema": MONEY, "references": None})
    assert lookup.status_code == 200 and lookup.json()["version"] == 1
    check = post(api, "/compatibility/subjects/money-value/versions/latest", {"schema": MONEY, "references": None})
    assert check.status_code == 200 and check.json()["is_compatible"] is True
