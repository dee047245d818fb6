"""A tree is registered in dependency order; its own copies of well-known files are never subjects."""

from pathlib import Path

from protoengine.compiler import well_known_include_dir
from schemas_app.deploy import shared_subject
from schemas_app.models import Tenant
from schemas_app.tree import dependency_order


def test_a_vendored_well_known_file_is_left_out_of_the_registration_order():
    empty = (Path(well_known_include_dir()) / "google/protobuf/empty.proto").read_text(encoding="utf-8")
    uses_empty = 'syntax = "proto3";\npackage acme.v1;\nimport "google/protobuf/empty.proto";\nmessage A {}\n'
    sources = {
        "google/protobuf/empty.proto": empty,
        "acme/v1/b.proto": 'syntax = "proto3";\npackage acme.v1;\nimport "acme/v1/a.proto";\nmessage B { A a = 1; }\n',
        "acme/v1/a.proto": uses_empty,
    }
    assert dependency_order(sources) == [("acme/v1/a.proto", ()), ("acme/v1/b.proto", ("acme/v1/a.proto",))]


def test_deploy_plans_shared_files_in_the_tenant_the_registry_calls_shared():
    assert shared_subject("common/money.proto") == f":.{Tenant.SHARED_SLUG}:common/money.proto"
