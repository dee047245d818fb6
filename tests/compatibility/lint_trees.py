"""Hand-written trees that trigger buf's lint rules, each in its usual and its awkward forms.

Each tree is `{import path: text}`; the conformance test writes it to a folder and runs
buf and the engine on it. Between them, the trees trigger every buf rule the engine
implements (the test checks that they do), and several also hold the passing form of a rule.
"""

TREES: dict[str, dict[str, str]] = {
    "names": {
        "acme/names/v1/names.proto": """\
syntax = "proto3";

package acme.names.v1;

// badly_named message.
message badly_named {
  // Field.
  string FieldName = 1;
  // Another.
  int32 fooBar2Baz = 2;
  // Oneof.
  oneof BadOneof {
    // Choice.
    string a_choice = 3;
  }
  // Nested.
  message nested_one {
    // Deep.
    string Deep = 1;
  }
  // Map.
  map<string, int32> Counts = 4;
  // Optional.
  optional string maybe = 5;
}

// Enum.
enum bad_enum {
  // Zero.
  BAD_ENUM_UNSPECIFIED = 0;
  // Lower.
  bad_enum_lower = 1;
  // Mixed.
  BadEnumMixed = 2;
}

// Good names.
message HTTPServer {
  // Camel.
  string http_server_name = 1;
}

// Service.
service lower_service {
  // Rpc.
  rpc get_thing(GetThingRequest) returns (GetThingResponse);
}

// Request.
message GetThingRequest {}

// Response.
message GetThingResponse {}
""",
    },
    "enums": {
        "acme/enums/v1/enums.proto": """\
syntax = "proto2";

package acme.enums.v1;

enum Colour {
  RED = 1;
  GREEN = 2;
}

enum Shade {
  option allow_alias = true;
  SHADE_UNSPECIFIED = 0;
  SHADE_DARK = 1;
  SHADE_DEEP = 1;
}

enum Status {
  STATUS_UNKNOWN = 0;
  STATUS_OK = 1;
}

message Holder {
  enum Inner {
    INNER_NONE = 0;
    OTHER = 1;
  }
  required string id = 1;
  optional Inner inner = 2;
}
""",
    },
    "services": {
        "acme/rpc/v1/rpc.proto": """\
syntax = "proto3";

package acme.rpc.v1;

import "google/protobuf/empty.proto";

message Thing {}

message ListThingsRequest {}

message ListThingsResponse {}

service Things {
  rpc GetThing(Thing) returns (Thing);
  rpc ListThings(ListThingsRequest) returns (stream ListThingsResponse);
  rpc Upload(stream Thing) returns (google.protobuf.Empty);
  rpc Ping(google.protobuf.Empty) returns (google.protobuf.Empty);
  rpc Chat(stream ThingsChatRequest) returns (stream ThingsChatResponse);
}

message ThingsChatRequest {}

message ThingsChatResponse {}

service ThingsService {
  rpc ListThings(ListThingsRequest) returns (ListThingsResponse);
}
""",
    },
    "comments": {
        "acme/docs/v1/docs.proto": """\
syntax = "proto3";

package acme.docs.v1;

message Undocumented {
  string a = 1;
  oneof choice {
    string b = 2;
  }
  map<string, string> labels = 3; // trailing only
}

//
message EmptyComment {}

// buf:lint:ignore COMMENT_ENUM
enum OnlyIgnore {
  // Zero.
  ONLY_IGNORE_UNSPECIFIED = 0;
  ONLY_IGNORE_ONE = 1;
}

/* Block comment. */
message Documented {}

service DocsService {
  rpc Get(GetRequest) returns (GetResponse);
}

// Request.
message GetRequest {}

// Response.
message GetResponse {}
""",
    },
    "files": {
        "acme/files/v1/BadFileName.proto": """\
syntax = "proto3";

package acme.files.v1;

import public "acme/files/v1/dep.proto";
import "acme/files/v1/unused.proto";

message UsesDep {
  acme.files.v1.Dep dep = 1;
}
""",
        "acme/files/v1/dep.proto": """\
syntax = "proto3";

package acme.files.v1;

message Dep {}
""",
        "acme/files/v1/unused.proto": """\
syntax = "proto3";

package acme.files.v1;

message Unused {}
""",
        "nopackage.proto": """\
syntax = "proto3";

message Orphan {}
""",
        "nosyntax/v1/old.proto": """\
package nosyntax.v1;

message Old {}
""",
        "wrong/place/misplaced.proto": """\
syntax = "proto3";

package acme.elsewhere.v1;

message Misplaced {}
""",
        "acme/Upper_Case/v1/pkg.proto": """\
syntax = "proto3";

package acme.Upper_Case.v1;

message Pkg {}
""",
        "acme/noversion/noversion.proto": """\
syntax = "proto3";

package acme.noversion;

message NoVersion {}
""",
    },
    # A type re-exported by one import and imported directly too is used through the direct import only.
    "public_imports": {
        "acme/reexport/v1/hub.proto": """\
syntax = "proto3";

package acme.reexport.v1;

import public "acme/reexport/v1/leaf.proto";
import public "google/protobuf/empty.proto";

message Hub {}
""",
        "acme/reexport/v1/leaf.proto": """\
syntax = "proto3";

package acme.reexport.v1;

message Leaf {}
""",
        "acme/reexport/v1/direct.proto": """\
syntax = "proto3";

package acme.reexport.v1;

import "acme/reexport/v1/hub.proto";
import "acme/reexport/v1/leaf.proto";

message Direct {
  Leaf leaf = 1;
}
""",
        "acme/reexport/v1/through.proto": """\
syntax = "proto3";

package acme.reexport.v1;

import "acme/reexport/v1/hub.proto";

message Through {
  Leaf leaf = 1;
}
""",
        "acme/reexport/v1/service.proto": """\
syntax = "proto3";

package acme.reexport.v1;

import "acme/reexport/v1/hub.proto";
import "google/protobuf/empty.proto";

service PingService {
  rpc Ping(google.protobuf.Empty) returns (google.protobuf.Empty);
}
""",
    },
    "packages": {
        "acme/mixed/v1/a.proto": """\
syntax = "proto3";

package acme.mixed.v1;

option go_package = "example.com/mixed/v1;mixedv1";
option java_package = "com.acme.mixed.v1";
option java_multiple_files = true;
option csharp_namespace = "Acme.Mixed.V1";
option php_namespace = "Acme\\\\Mixed\\\\V1";
option ruby_package = "Acme::Mixed::V1";
option swift_prefix = "AMX";

message A {}
""",
        "acme/mixed/v1/b.proto": """\
syntax = "proto3";

package acme.mixed.v1;

option go_package = "example.com/other/v1;otherv1";
option java_package = "com.acme.other.v1";
option csharp_namespace = "Acme.Other.V1";

message B {}
""",
        "acme/mixed/v1/c.proto": """\
syntax = "proto3";

package acme.other.v1;

message C {}
""",
        "acme/other/v1/d.proto": """\
syntax = "proto3";

package acme.other.v1;

message D {}
""",
    },
    "no package": {
        "left/left.proto": """\
syntax = "proto3";

option go_package = "example.com/left";

message Left {}
""",
        "right/right.proto": """\
syntax = "proto3";

message Right {}
""",
    },
    "cycle": {
        "acme/ping/v1/ping.proto": """\
syntax = "proto3";

package acme.ping.v1;

import "acme/pong/v1/pong.proto";

message Ping {
  acme.pong.v1.Pong pong = 1;
}
""",
        "acme/pong/v1/pong.proto": """\
syntax = "proto3";

package acme.pong.v1;

import "acme/pong/v1/back.proto";

message Pong {
  Back back = 1;
}
""",
        "acme/pong/v1/back.proto": """\
syntax = "proto3";

package acme.pong.v1;

import "acme/ping/v1/other.proto";

message Back {
  acme.ping.v1.Other other = 1;
}
""",
        "acme/ping/v1/other.proto": """\
syntax = "proto3";

package acme.ping.v1;

message Other {}
""",
    },
    "editions": {
        "acme/ed/v1/ed.proto": """\
edition = "2023";

package acme.ed.v1;

message Legacy {
  string id = 1 [features.field_presence = LEGACY_REQUIRED];
  string Name = 2;
}

enum Closed {
  option features.enum_type = CLOSED;
  CLOSED_ONE = 1;
}
""",
    },
    "extensions": {
        "acme/ext/v1/ext.proto": """\
syntax = "proto2";

package acme.ext.v1;

message Base {
  extensions 100 to 200;
  optional group MyGroup = 1 {
    optional string inner_value = 2;
  }
}

extend Base {
  optional string BadExtension = 100;
}

message Scope {
  extend Base {
    optional int32 scopedExt = 101;
  }
}
""",
    },
    "ignores": {
        "acme/quiet/v1/quiet.proto": """\
syntax = "proto3";

package acme.quiet.v1;

// buf:lint:ignore MESSAGE_PASCAL_CASE
message quiet_message {
  // buf:lint:ignore FIELD_LOWER_SNAKE_CASE
  string LoudField = 1;
  string OtherField = 2;
}

message Outer {
  // buf:lint:ignore ENUM_VALUE_PREFIX
  enum Kind {
    KIND_UNSPECIFIED = 0;
    OTHER = 1;
  }
}
""",
    },
    "vendored": {
        "google/protobuf/cpp_features.proto": None,
        "acme/vend/v1/vend.proto": """\
edition = "2023";

package acme.vend.v1;

import "google/protobuf/cpp_features.proto";

message Vend {
  string text = 1 [features.(pb.cpp).string_type = VIEW];
}
""",
    },
}
