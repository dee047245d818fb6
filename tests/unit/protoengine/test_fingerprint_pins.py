"""Canonical texts and fingerprints of fixed schemas never change: databases store them.

Each schema's printed text (`print_file`), normalised text (`print_normalized`), text
fingerprint of the normalised text and identity fingerprints (with and without comments)
are pinned by digest. A change here changes stored fingerprints and needs a migration
(see schemas_app/migrations/0005, 0007 and 0020), so a failing pin is a bug unless one is written.
"""

import hashlib
from pathlib import Path

import pytest

from protoengine.canonical import fingerprint, identity_fingerprint, normalize_compiled
from protoengine.compiler import compile_one, compile_sources
from protoengine.printer import print_file

REPOSITORY = Path(__file__).resolve().parents[3]
SCHEMAS = REPOSITORY / "schemas"
FIXTURES = Path(__file__).parent / "printer_fixtures"
FIXTURE_DEPENDENCIES = {
    "schemaregistry/options.proto": (SCHEMAS / "schemaregistry" / "options.proto").read_text(),
    "common/money.proto": 'syntax = "proto3";\npackage common.v1;\nmessage Money { int64 units = 1; }\n',
    "common/weak.proto": 'syntax = "proto3";\npackage common.v1;\nmessage Weak {}\n',
}
REFERENCES = [("common/money.proto", "money-value", 3)]
EXTRAS = '{"metadata": {"properties": {"owner": "shop"}}, "ruleSet": null}'

# Every kind of comment protoc records, on every kind of element, with custom options and maps.
COMMENTED = """// Detached from the syntax line.

// Leading comment of the syntax line.
syntax = "proto3"; // trailing comment of the syntax line
package shop.v1;
import "schemaregistry/options.proto";
import "common/money.proto";

// Detached from the message.

/* A block comment leading the message. */
message Order {
  // Leading the id.
  string id = 1; // Trailing the id.
  common.v1.Money total = 2 [(registry.v1.pii) = true, deprecated = true];
  map<string, Order> children = 3;

  // Detached inside the message.

  oneof payment { // trailing the oneof's opening
    string card = 4;
    int64 points = 5 [json_name = "pointsID"];
  }
  optional int32 count = 6;
  reserved 9 to 11, 20 to max;
  reserved "old";
  enum State { // after the enum's opening
    STATE_UNSPECIFIED = 0;
    STATE_OPEN = 1 [deprecated = true];
    reserved 5 to 7;
  }
}

// Leading the service.
service Orders {
  rpc Place(Order) returns (stream Order) { option deprecated = true; } // trailing the RPC
}
"""

# Digests: sha256 of print_file's text, sha256 of the normalised text, canonical.fingerprint of the normalised text
# with the extras and references the registry appends, identity_fingerprint with and without comments; all
# shortened to 16 hex digits.
PINS = {
    "ai/features.proto": (
        "13b5a719747f6405",
        "c03353c3f474b55a",
        "d3ad8ddd782e698d",
        "7a0b7bb45f839a21",
        "5f26a98a90eaad55",
    ),
    "ai/models.proto": (
        "5cb96b96c6c0d33a",
        "6371be7f4ddeb7c2",
        "61698d440c77f09d",
        "4526ab8131d58eac",
        "4879350883e10a9d",
    ),
    "ai/predictions.proto": (
        "9a32ea1343c35fdd",
        "0148cbd6b38ebd9f",
        "2f87c0cdbd3bb67e",
        "aec9ebf9f08129a7",
        "c2d3976afa01c873",
    ),
    "common/base.proto": (
        "0462872372c7063b",
        "0ba942b03bc54f99",
        "7ab8be0f35dd7aca",
        "6a3b115185e657fd",
        "3c33d53cb11861bd",
    ),
    "common/money.proto": (
        "d8313e6dfe68c52d",
        "81c1fca3add76cae",
        "55959fba56a568c9",
        "f424226f82279492",
        "455ad7652be387b5",
    ),
    "common/timestamp.proto": (
        "6fe9b7291305c4d8",
        "4118130655502151",
        "a1c2d357e311f97b",
        "5ee799db520fbed7",
        "3be3ab0b492c0976",
    ),
    "common/user.proto": (
        "633d72c9b2533caa",
        "5e83e6bb91d063e3",
        "df60776d1e731676",
        "cf6a954c9e725881",
        "36666600bbfae2f2",
    ),
    "schemaregistry/options.proto": (
        "d8720e6aa9695b57",
        "d13e2f4e0f73c341",
        "28474e192e4da394",
        "7b3cc32701b65cd9",
        "2b3afb38faf7fabc",
    ),
    "schemaregistry/registry_service.proto": (
        "5e2db6b7e20dad43",
        "b2a91771f1291e37",
        "f9273ebc80af094d",
        "197b93434151ade9",
        "5155dfed15f3d764",
    ),
    "system/audit.proto": (
        "cc565f34597de769",
        "7c63d7202baece0d",
        "a9179117c823db13",
        "be5858255bf4b161",
        "6ecc0757483b5a36",
    ),
    "system/config.proto": (
        "b9a6dd4aa5a4a528",
        "0d9b149c8e833fa9",
        "e7e05980742cf16a",
        "035d106d04c4abde",
        "ce4a0f3948929984",
    ),
    "system/health.proto": (
        "1218b614670cacb6",
        "86ef671fc9c02df4",
        "fb4ed53b7e97be63",
        "b2478f79233413db",
        "62d2577ea78a91e6",
    ),
    "trading/market_data.proto": (
        "d783b4da6ace5a11",
        "ec3da13ea53f63e3",
        "973869139a16b05e",
        "4af37dbcb87464f2",
        "bb0e41e9194e0425",
    ),
    "trading/orders.proto": (
        "29fe18af01516234",
        "18bedd5d5f0082ca",
        "a961793e9bb38560",
        "9a7e3c4962be98d4",
        "8573fc56b6a46cda",
    ),
    "trading/portfolio.proto": (
        "c0d897248d8c62cb",
        "8b2f4f144836648b",
        "678f9b269c311a21",
        "7a47f549ced12484",
        "9f7c0cdc72b23a42",
    ),
    "trading/positions.proto": (
        "fedb73ca9aa4ab00",
        "b2ab57173db78d55",
        "a9999d4195243c68",
        "ebfbb977c893323e",
        "1b6e7e2c5222c7c6",
    ),
    "trading/risk.proto": (
        "a4c7eb15c03f5fe6",
        "4efd154589f86eb8",
        "2f36a88e7b9c233b",
        "bb9de1b187f55125",
        "8d0008bcd981fc44",
    ),
    "fixtures/editions_2023.proto": (
        "9c9e91b63da9eae2",
        "bbc9bf3b7352b7bd",
        "9d25c9a460e60190",
        "10ee497ed4755a72",
        "ca094324a744309f",
    ),
    "fixtures/editions_2024.proto": (
        "acab2ff78ee30ff8",
        "9823934f40691fec",
        "acaab039b2caf0d7",
        "ea8a7a466b5d91a7",
        "69492150f4ecd6c4",
    ),
    "fixtures/names_and_imports.proto": (
        "42d4426da902a561",
        "f44aab27c93a944a",
        "c15b160f3e899d77",
        "f8a3049db8c474f2",
        "539d57ee4c084a19",
    ),
    "fixtures/proto2_everything.proto": (
        "f377273daad0c441",
        "f377273daad0c441",
        "8a9de9a134486586",
        "0886bf5492a96518",
        "60e7c15ff93557aa",
    ),
    "fixtures/proto3_custom_options.proto": (
        "a87713384384c4c0",
        "5cc0d40668c6553c",
        "f6a6a026e2ee7803",
        "67ae579de72afcda",
        "032a4bc40ae8fd65",
    ),
    "commented.proto": (
        "c4ad1409adfee20a",
        "807db0bdd07a0933",
        "6c07a0605eb8e5f4",
        "9bc0460cdb468088",
        "f3d4b8fa3f0b30fe",
    ),
}


def short(text: str) -> str:
    return text[:16]


def digests(path: str, compiled) -> tuple[str, str, str, str, str]:
    file = compiled.file(path)
    normalized = normalize_compiled(path, compiled)
    return (
        short(hashlib.sha256(print_file(file, compiled.files).encode()).hexdigest()),
        short(hashlib.sha256(normalized.encode()).hexdigest()),
        short(fingerprint(normalized + EXTRAS, REFERENCES)),
        short(identity_fingerprint(file, REFERENCES, EXTRAS)),
        short(identity_fingerprint(file, REFERENCES, EXTRAS, comments=False)),
    )


def pinned_schemas() -> dict[str, object]:
    """Return {name: compiled set} for every pinned schema: the bundled schemas, the printer's fixtures, COMMENTED."""
    sources = {str(path.relative_to(SCHEMAS)): path.read_text() for path in sorted(SCHEMAS.rglob("*.proto"))}
    bundled = compile_sources(sources)
    schemas = {name: (name, bundled) for name in sources}
    for fixture in sorted(FIXTURES.glob("*.proto")):
        path = f"fixtures/{fixture.name}"
        schemas[path] = (path, compile_one(path, fixture.read_text(), FIXTURE_DEPENDENCIES))
    schemas["commented.proto"] = ("commented.proto", compile_one("commented.proto", COMMENTED, FIXTURE_DEPENDENCIES))
    return schemas


@pytest.fixture(scope="module")
def schemas():
    return pinned_schemas()


def test_it_pins_every_schema_it_knows(schemas):
    assert sorted(schemas) == sorted(PINS)


@pytest.mark.parametrize("name", sorted(PINS))
def test_its_canonical_texts_and_fingerprints_stay_the_same(schemas, name):
    path, compiled = schemas[name]
    assert digests(path, compiled) == PINS[name]


if __name__ == "__main__":
    # Print the PINS table for the current code (only when a change of every stored fingerprint is intended).
    for name, (path, compiled) in pinned_schemas().items():
        print(f'    "{name}": {digests(path, compiled)!r},')
