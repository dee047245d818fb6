"""Small .proto trees for the schema workflow tests (validate_schemas, deploy_schemas), and a helper to write them.

Line numbers the tests assert are those of these texts; ORDERS' `quantity` field is on line 14.
"""

from pathlib import Path

BUF_YAML = """version: v2
lint:
  use:
    - BASIC
  except:
    - PACKAGE_DIRECTORY_MATCH
"""

MONEY = """syntax = "proto3";

package common.v1;

// Money is an amount of one currency.
message Money {
  // ISO 4217 code such as "USD".
  string currency_code = 1;
  // Whole units of the amount.
  int64 units = 2;
}
"""

# A new field: a MINOR change.
MONEY_WITH_NANOS = MONEY.replace(
    "  int64 units = 2;\n",
    "  int64 units = 2;\n  // Billionths of a unit.\n  int32 nanos = 3;\n",
)

ORDERS = """syntax = "proto3";

package trading.v1;

import "common/money.proto";

// Order is one order on one instrument.
message Order {
  // Id the venue gave the order.
  string order_id = 1;
  // Limit price.
  common.v1.Money price = 2;
  // Quantity in units of the instrument.
  double quantity = 3;
}
"""

# double -> string: breaking under every rule set.
ORDERS_WITH_STRING_QUANTITY = ORDERS.replace("double quantity = 3;", "string quantity = 3;")

# The field goes without `reserved 3;`: breaking under the default SPEC rules (WIRE_JSON's FIELD_NO_DELETE_UNLESS_*).
ORDERS_WITHOUT_QUANTITY = ORDERS.replace("  // Quantity in units of the instrument.\n  double quantity = 3;\n", "")

HEALTH = """syntax = "proto3";

package system.v1;

// Ping asks whether a service is alive.
message Ping {
  // Free text echoed back.
  string note = 1;
}
"""

# Only a comment changes: a PATCH change.
HEALTH_WITH_NEW_COMMENT = HEALTH.replace("// Free text echoed back.", "// Free text, echoed back unchanged.")

FILLS = """syntax = "proto3";

package trading.v1;

import "common/money.proto";

// Fill is one execution of an order.
message Fill {
  // Price of the execution.
  common.v1.Money price = 1;
}
"""

FIRST_TREE = {"common/money.proto": MONEY, "trading/orders.proto": ORDERS, "system/health.proto": HEALTH}


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """Write {import path: text} under root (created when needed) and return root."""
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root
