"""The bundled catalogue under schemas/ compiles in one run, keeps the spec's messages and follows the house rules."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from google.protobuf.descriptor_pb2 import FieldDescriptorProto, FileDescriptorProto

from protoengine import breaking
from protoengine.compiler import compile_one, compile_sources
from protoengine.folders import read_texts
from protoengine.lint import LintConfig, lint
from protoengine.locations import (
    ENUM_VALUE,
    FILE_ENUM_TYPE,
    FILE_MESSAGE_TYPE,
    FILE_SERVICE,
    MESSAGE_ENUM_TYPE,
    MESSAGE_FIELD,
    MESSAGE_NESTED_TYPE,
    MESSAGE_ONEOF_DECL,
    SERVICE_METHOD,
    SourceIndex,
)
from protoengine.wire import iter_fields

REPOSITORY = Path(__file__).resolve().parents[2]
SCHEMAS = REPOSITORY / "schemas"
MIGRATION_EXAMPLE = REPOSITORY / "docs" / "migrations" / "orders-v1-to-v2.md"
GO_PACKAGE = "github.com/proto-schema-registry/schemas/gen/go/{domain}/v1;{domain}v1"
CATALOGUE = {
    "common/timestamp.proto",
    "common/money.proto",
    "common/user.proto",
    "common/base.proto",
    "trading/market_data.proto",
    "trading/orders.proto",
    "trading/positions.proto",
    "trading/risk.proto",
    "trading/portfolio.proto",
    "ai/predictions.proto",
    "ai/features.proto",
    "ai/models.proto",
    "system/config.proto",
    "system/health.proto",
    "system/audit.proto",
    "schemaregistry/options.proto",
    "schemaregistry/registry_service.proto",
}
TENANT_SCOPED_DOMAINS = ("trading", "ai", "system")
# A file may import files of its own domain and of lower layers only, so the catalogue stays acyclic.
LAYERS = {"schemaregistry": 0, "common": 1, "trading": 2, "ai": 2, "system": 3}

STRING, DOUBLE, INT64, MESSAGE = (
    FieldDescriptorProto.TYPE_STRING,
    FieldDescriptorProto.TYPE_DOUBLE,
    FieldDescriptorProto.TYPE_INT64,
    FieldDescriptorProto.TYPE_MESSAGE,
)
REPEATED = FieldDescriptorProto.LABEL_REPEATED
# The spec's messages, field by field: (name, number, type, message type or "", repeated).
SPEC_MESSAGES = {
    ("trading/market_data.proto", "TickData"): [
        ("symbol", 1, STRING, "", False),
        ("bid", 2, DOUBLE, "", False),
        ("ask", 3, DOUBLE, "", False),
        ("volume", 4, DOUBLE, "", False),
        ("timestamp_ms", 5, INT64, "", False),
        ("tenant_id", 6, STRING, "", False),
    ],
    ("trading/market_data.proto", "MarketDataStream"): [
        ("ticks", 1, MESSAGE, ".trading.v1.TickData", True),
        ("source", 2, STRING, "", False),
        ("sequence_number", 3, INT64, "", False),
    ],
    ("ai/features.proto", "TechnicalIndicators"): [
        ("symbol", 1, STRING, "", False),
        ("rsi", 2, DOUBLE, "", False),
        ("macd", 3, DOUBLE, "", False),
        ("sma_20", 4, DOUBLE, "", False),
        ("ema_50", 5, DOUBLE, "", False),
        ("bollinger", 6, MESSAGE, ".ai.v1.BollingerBands", False),
        ("calculated_at", 7, INT64, "", False),
        ("tenant_id", 8, STRING, "", False),
    ],
    ("ai/features.proto", "BollingerBands"): [
        ("upper", 1, DOUBLE, "", False),
        ("middle", 2, DOUBLE, "", False),
        ("lower", 3, DOUBLE, "", False),
        ("bandwidth", 4, DOUBLE, "", False),
    ],
    ("common/base.proto", "BaseMessage"): [
        ("tenant_id", 1, STRING, "", False),
        ("timestamp_ms", 2, INT64, "", False),
        ("correlation_id", 3, STRING, "", False),
    ],
    ("system/config.proto", "TenantConfig"): [
        ("tenant_id", 1, STRING, "", False),
        ("risk_limits", 2, MESSAGE, ".trading.v1.RiskLimits", False),
        ("trading_settings", 3, MESSAGE, ".system.v1.TradingSettings", False),
        ("ai_config", 4, MESSAGE, ".ai.v1.AIModelConfig", False),
    ],
}

PII_OPTION = 50001
CLASSIFICATION_OPTION = 50002
CONFIDENTIAL_OR_RESTRICTED = {3, 4}
# Words of a field name that say it holds personal data; such fields must carry the PII option.
PERSONAL_WORDS = {"email", "phone", "address", "name", "ssn", "tax", "iban", "ip", "birth"}


@pytest.fixture(scope="module")
def sources():
    return read_texts(SCHEMAS)


@pytest.fixture(scope="module")
def catalogue(sources):
    return compile_sources(sources)


@pytest.fixture(scope="module")
def buf_yaml():
    return yaml.safe_load((SCHEMAS / "buf.yaml").read_text())


@pytest.fixture(scope="module")
def lint_config(buf_yaml):
    return LintConfig.from_buf_yaml(buf_yaml)


def domain_of(file: FileDescriptorProto) -> str:
    folder = file.name.split("/")[0]
    # The options' folder is not named "registry", which would shadow the Django project in generated Python.
    return "registry" if folder == "schemaregistry" else folder


def message_named(catalogue, path: str, name: str):
    return next(message for message in catalogue.file(path).message_type if message.name == name)


def all_messages(messages, prefix):
    """Yield (message, source path) for every message, nested ones included, except synthetic map entries."""
    for index, message in enumerate(messages):
        if message.options.map_entry:
            continue
        path = (*prefix, index)
        yield message, path
        yield from all_messages(message.nested_type, (*path, MESSAGE_NESTED_TYPE))


def documented_elements(file: FileDescriptorProto):
    """Yield (source path, label) for every element that needs a comment."""
    enums = [(enum, (FILE_ENUM_TYPE, index), enum.name) for index, enum in enumerate(file.enum_type)]
    for message, path in all_messages(file.message_type, (FILE_MESSAGE_TYPE,)):
        yield path, message.name
        yield from (
            ((*path, MESSAGE_FIELD, index), f"{message.name}.{field.name}") for index, field in enumerate(message.field)
        )
        yield from (
            ((*path, MESSAGE_ONEOF_DECL, index), f"{message.name}.{oneof.name}")
            for index, oneof in enumerate(message.oneof_decl)
        )
        enums += [
            (enum, (*path, MESSAGE_ENUM_TYPE, index), f"{message.name}.{enum.name}")
            for index, enum in enumerate(message.enum_type)
        ]
    for enum, path, label in enums:
        yield path, label
        yield from (((*path, ENUM_VALUE, index), value.name) for index, value in enumerate(enum.value))
    for index, service in enumerate(file.service):
        yield (FILE_SERVICE, index), service.name
        yield from (
            ((FILE_SERVICE, index, SERVICE_METHOD, number), f"{service.name}.{method.name}")
            for number, method in enumerate(service.method)
        )


def custom_options(field: FieldDescriptorProto) -> dict[int, int]:
    # Read the wire bytes: once a test imports generated options_pb2, the default pool parses these as extensions.
    return {number: value for number, _, value in iter_fields(field.options.SerializeToString())}


def test_the_whole_catalogue_compiles_in_one_protoc_run(sources, catalogue):
    assert set(sources) == CATALOGUE
    assert {file.name for file in catalogue.own_files} == CATALOGUE
    assert catalogue.warnings == ()


def test_each_file_compiles_with_only_the_files_it_imports(sources, catalogue):
    by_name = {file.name: file for file in catalogue.own_files}
    for path in sources:
        imported = set()
        pending = list(by_name[path].dependency)
        while pending:
            name = pending.pop()
            if name in by_name and name not in imported:
                imported.add(name)
                pending.extend(by_name[name].dependency)
        compiled = compile_one(path, sources[path], {name: sources[name] for name in imported})
        assert compiled.file(path).package == by_name[path].package


@pytest.mark.parametrize(("path", "message_name"), sorted(SPEC_MESSAGES))
def test_the_spec_messages_match_field_for_field(catalogue, path, message_name):
    message = message_named(catalogue, path, message_name)
    expected = SPEC_MESSAGES[path, message_name]
    actual = [(f.name, f.number, f.type, f.type_name, f.label == REPEATED) for f in message.field]
    assert actual[: len(expected)] == expected
    # Only the governance rule's tenant_id may follow the spec's fields.
    assert [(name, kind) for name, _, kind, _, _ in actual[len(expected) :]] in ([], [("tenant_id", STRING)])


def test_the_catalogue_lints_clean_with_its_buf_yaml_including_governance_and_comments(catalogue, lint_config):
    assert {
        "MESSAGE_TENANT_ID",
        "FIELD_PII_ANNOTATED",
        "FIELD_DEPRECATED_MARKED",
        "COMMENT_FIELD",
        "RPC_REQUEST_STANDARD_NAME",
        "ENUM_VALUE_PREFIX",
    } <= lint_config.rule_ids
    assert [finding.as_text() for finding in lint(catalogue.files, lint_config)] == []


def test_every_file_declares_proto3_its_domain_package_and_go_package(catalogue):
    for file in catalogue.own_files:
        domain = domain_of(file)
        assert (file.syntax, file.package, file.options.go_package) == (
            "proto3",
            f"{domain}.v1",
            GO_PACKAGE.format(domain=domain),
        ), file.name


def test_every_top_level_message_of_trading_ai_and_system_carries_a_string_tenant_id(catalogue):
    missing = [
        f"{file.name}: {message.name}"
        for file in catalogue.own_files
        if domain_of(file) in TENANT_SCOPED_DOMAINS
        for message in file.message_type
        if not any(f.name == "tenant_id" and f.type == STRING and f.label != REPEATED for f in message.field)
    ]
    assert missing == []


def test_every_message_field_enum_value_service_and_rpc_has_a_comment(catalogue):
    undocumented = []
    for file in catalogue.own_files:
        index = SourceIndex(file)
        undocumented += [
            f"{file.name}: {label}" for path, label in documented_elements(file) if not index.comment(path).strip()
        ]
    assert undocumented == []


def test_fields_that_hold_personal_data_are_marked_pii_and_confidential_or_restricted(catalogue):
    unmarked = []
    marked = 0
    for file in catalogue.own_files:
        for message, _ in all_messages(file.message_type, ()):
            for field in message.field:
                options = custom_options(field)
                is_pii = options.get(PII_OPTION) == 1
                well_marked = is_pii and options.get(CLASSIFICATION_OPTION) in CONFIDENTIAL_OR_RESTRICTED
                marked += is_pii
                if (is_pii or PERSONAL_WORDS & set(field.name.split("_"))) and not well_marked:
                    unmarked.append(f"{file.name}: {message.name}.{field.name}")
    assert unmarked == []
    assert marked >= 10, "user.proto and audit.proto hold personal data"


def test_files_import_only_their_own_domain_and_lower_layers(catalogue):
    upward = [
        f"{file.name} imports {name}"
        for file in catalogue.own_files
        for name in file.dependency
        if not name.startswith("google/protobuf/")
        and name.split("/")[0] != domain_of(file)
        and LAYERS[name.split("/")[0]] >= LAYERS[domain_of(file)]
    ]
    assert upward == []


def test_the_migration_guides_copy_step_makes_a_v2_package_beside_v1_that_lints_clean_and_breaks_nothing(
    tmp_path, catalogue, buf_yaml, lint_config
):
    script = re.search(r"<!-- copy-step -->\s*```sh\n(.*?)```", MIGRATION_EXAMPLE.read_text(), re.S)
    assert script, "the worked example keeps its copy step in a ```sh block after <!-- copy-step -->"
    shutil.copytree(SCHEMAS, tmp_path / "schemas")
    subprocess.run(["bash", "-euc", script.group(1)], cwd=tmp_path, check=True)

    compiled = compile_sources(read_texts(tmp_path / "schemas"))

    v1, v2 = compiled.file("trading/orders.proto"), compiled.file("trading/v2/orders.proto")
    assert (v2.package, v2.options.go_package) == (
        "trading.v2",
        "github.com/proto-schema-registry/schemas/gen/go/trading/v2;tradingv2",
    )
    assert [m.name for m in v2.message_type] == [m.name for m in v1.message_type]
    quantity_types = {
        (m.name, f.name): f.type
        for m, _ in all_messages(v2.message_type, ())
        for f in m.field
        if f.name.endswith("quantity")
    }
    assert len(quantity_types) == 8 and set(quantity_types.values()) == {STRING}
    assert {f.type for f in message_named(compiled, "trading/orders.proto", "Order").field if f.name == "quantity"} == {
        DOUBLE
    }
    assert [finding.as_text() for finding in lint(compiled.files, lint_config)] == []
    assert breaking.check(catalogue.own_files, compiled.own_files, buf_yaml["breaking"]["use"]) == []
