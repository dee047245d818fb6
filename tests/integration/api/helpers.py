"""Small schema texts and request helpers for the API tests."""

import base64
import json

from protoengine.compiler import compile_one

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"

MONEY = """syntax = "proto3";
package common.v1;

// Money is an amount in a currency.
message Money {
  int64 units = 1;
  int32 nanos = 2;
  string currency_code = 3;
}
"""

TICK_V1 = """syntax = "proto3";
package trading.v1;

message TickData {
  string symbol = 1;
  double bid = 2;
  double ask = 3;
  double volume = 4;
  int64 timestamp_ms = 5;
  string tenant_id = 6;
}
"""

TICK_V2_ADDS_FIELD = TICK_V1.replace("  string tenant_id = 6;\n", "  string tenant_id = 6;\n  string venue = 7;\n")
TICK_V2_CHANGES_TYPE = TICK_V1.replace("double bid = 2;", "float bid = 2;")
TICK_V2_DELETES_FIELD = TICK_V1.replace("  double volume = 4;\n", "")

ORDER_WITH_MONEY = """syntax = "proto3";
package trading.v1;

import "common/money.proto";

message Order {
  string order_id = 1;
  common.v1.Money price = 2;
  string tenant_id = 3;
}
"""


def post(client, path, body, **extra):
    return client.post(path, data=json.dumps(body), content_type=CONTENT_TYPE, **extra)


def put(client, path, body):
    return client.put(path, data=json.dumps(body), content_type=CONTENT_TYPE)


def register(client, subject, schema, references=(), **query):
    suffix = ("?" + "&".join(f"{key}={value}" for key, value in query.items())) if query else ""
    return post(
        client,
        f"/subjects/{subject}/versions{suffix}",
        {"schema": schema, "schemaType": "PROTOBUF", "references": list(references)},
    )


def descriptor_base64(text: str, path: str = "trading/ticks.proto") -> str:
    """Return the schema as confluent-kafka's serializer sends it: a base64 FileDescriptorProto without comments."""
    compiled = compile_one(path, text).file(path)
    root = type(compiled)()
    root.CopyFrom(compiled)  # cleared in a copy: the compile cache shares the compiled set with later compiles
    root.ClearField("source_code_info")
    return base64.b64encode(root.SerializeToString()).decode()
