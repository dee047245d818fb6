"""The real confluent-kafka client against the live registry: serializers, references, wire format and the client API.

Messages come from the bundled `schemas/` catalogue, compiled to Python modules at test time.
No Kafka broker is involved: the serializers talk only to the registry.
"""

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext, SerializationError

from schemas_app.models import Tenant
from schemas_app.services import config_update, system_account
from tests.conftest_users import api_token
from tests.integration.api.helpers import TICK_V1, TICK_V2_ADDS_FIELD, TICK_V2_CHANGES_TYPE

pytestmark = pytest.mark.django_db(transaction=True)

MARKET_DATA = "trading/market_data.proto"
ORDERS = "trading/orders.proto"
USERS = "common/user.proto"
WRITER_CREDENTIALS = "writer:writer-password"
# A signed-in account with no grants: it may read the default tenant and nothing more.
READER_CREDENTIALS = "outsider:outsider-password"
SERIALIZER_CONFIG = {"auto.register.schemas": True, "use.deprecated.format": False}


@pytest.fixture
def open_client(server):
    """Return a function opening registry clients, all closed after the test.

    A client keeps its HTTP connection alive, and the live server's request thread keeps
    a database connection until then, which would stop the test database from being dropped.
    """
    opened = []

    def open_(credentials: str | None = None, token: str | None = None) -> SchemaRegistryClient:
        # confluent-kafka 2.16 takes `basic.auth.user.info` alone:
        # it refuses `basic.auth.credentials.source` as unknown.
        config = {"url": server.url}
        if credentials:
            config["basic.auth.user.info"] = credentials
        if token:
            # The client insists on a logical cluster (Confluent Cloud's); the registry ignores it.
            config.update(
                {
                    "bearer.auth.credentials.source": "STATIC_TOKEN",
                    "bearer.auth.token": token,
                    "bearer.auth.logical.cluster": "lsrc-registry",
                }
            )
        opened.append(SchemaRegistryClient(config))
        return opened[-1]

    yield open_
    for client in opened:
        client.close()


@pytest.fixture
def registry(open_client, writer) -> SchemaRegistryClient:
    """A client signed in as the writer, who may register, delete and configure."""
    return open_client(WRITER_CREDENTIALS)


@pytest.fixture
def reader(open_client, outsider) -> SchemaRegistryClient:
    """A second client, signed in with read access only and empty caches, so every read reaches the server."""
    return open_client(READER_CREDENTIALS)


def value_context(topic: str) -> SerializationContext:
    return SerializationContext(topic, MessageField.VALUE)


def serialize(registry: SchemaRegistryClient, message, topic: str) -> bytes:
    """Serialize with a fresh serializer, so nothing is remembered from an earlier call."""
    return ProtobufSerializer(type(message), registry, SERIALIZER_CONFIG)(message, value_context(topic))


def deserialize(registry: SchemaRegistryClient, message_class: type, data: bytes, topic: str):
    return ProtobufDeserializer(message_class, {"use.deprecated.format": False}, registry)(data, value_context(topic))


def signed_request(server, path: str, credentials: str = WRITER_CREDENTIALS) -> urllib.request.Request:
    """Return a GET request of a registry path with basic credentials."""
    token = base64.b64encode(credentials.encode()).decode()
    return urllib.request.Request(f"{server.url}{path}", headers={"Authorization": f"Basic {token}"})


def rest_get(server, path: str):
    """GET a registry path over HTTP as the writer and return the decoded JSON body."""
    with urllib.request.urlopen(signed_request(server, path), timeout=10) as response:
        return json.load(response)


def rest_status(server, path: str) -> int:
    """GET a registry path over HTTP as the writer and return the status code."""
    try:
        with urllib.request.urlopen(signed_request(server, path), timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def subject_path(subject: str) -> str:
    return urllib.parse.quote(subject, safe="")


@dataclass(frozen=True)
class Frame:
    """Confluent's wire format: magic byte 0, a big-endian schema id, the message indexes, the payload."""

    magic: int
    schema_id: int
    message_indexes: list[int]
    payload: bytes


def read_frame(data: bytes) -> Frame:
    """Split framed bytes into their parts, decoding the zigzag varint array of message indexes."""
    schema_id = int.from_bytes(data[1:5], "big")
    count, offset = _read_zigzag(data, 5)
    indexes = []
    for _ in range(count):
        index, offset = _read_zigzag(data, offset)
        indexes.append(index)
    # A lone 0 stands for [0], the first message of the file.
    return Frame(magic=data[0], schema_id=schema_id, message_indexes=indexes or [0], payload=data[offset:])


def _read_zigzag(data: bytes, offset: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return (value >> 1) ^ -(value & 1), offset


def tick(catalogue, symbol: str = "EURUSD"):
    return catalogue.message(MARKET_DATA, "TickData")(
        symbol=symbol, bid=1.0841, ask=1.0843, volume=2_500_000.0, timestamp_ms=1_767_225_600_000, tenant_id="acme"
    )


def order(catalogue):
    module = catalogue.module(ORDERS)
    message = module.Order(
        order_id="ord-1", client_order_id="cli-1", tenant_id="acme", account_id="acc-7", symbol="AAPL", quantity=100.0
    )
    message.limit_price.currency_code, message.limit_price.units, message.limit_price.nanos = "USD", 187, 250_000_000
    message.side = module.ORDER_SIDE_BUY
    message.created_at.FromSeconds(1_767_225_600)
    return message


def test_a_tick_round_trips_and_its_frame_carries_the_id_the_registry_answers(catalogue, registry, reader, server):
    message = tick(catalogue)
    data = serialize(registry, message, "ticks")
    frame = read_frame(data)
    assert frame.magic == 0
    assert frame.schema_id == registry.get_latest_version("ticks-value").schema_id
    assert frame.schema_id == rest_get(server, "/subjects/ticks-value/versions/1")["id"]
    assert frame.message_indexes == [0]
    assert frame.payload == message.SerializeToString()
    assert deserialize(reader, type(message), data, "ticks") == message


def test_a_second_message_of_the_file_is_framed_with_its_index(catalogue, registry, reader):
    stream = catalogue.message(MARKET_DATA, "MarketDataStream")(source="lse", sequence_number=42)
    stream.ticks.extend([tick(catalogue, "VOD.L"), tick(catalogue, "BARC.L")])
    data = serialize(registry, stream, "market-stream")
    assert data[5:7] == b"\x02\x02"  # one index, value 1, both zigzag-encoded
    assert read_frame(data).message_indexes == [1]
    assert deserialize(reader, type(stream), data, "market-stream") == stream


def test_imports_are_registered_under_their_import_paths_and_pinned_as_references(catalogue, registry, server):
    serialize(registry, order(catalogue), "orders")
    for imported in ("common/money.proto", "common/timestamp.proto"):
        assert rest_get(server, f"/subjects/{subject_path(imported)}/versions") == [1]
    root = rest_get(server, "/subjects/orders-value/versions/1")
    assert root["schemaType"] == "PROTOBUF"
    assert sorted(root["references"], key=lambda ref: ref["name"]) == [
        {"name": "common/money.proto", "subject": "common/money.proto", "version": 1},
        {"name": "common/timestamp.proto", "subject": "common/timestamp.proto", "version": 1},
    ]
    assert "google/protobuf/timestamp.proto" not in rest_get(server, "/subjects")


def test_a_message_with_money_and_timestamps_deserializes_to_an_equal_message(catalogue, registry, reader):
    message = order(catalogue)
    decoded = deserialize(reader, type(message), serialize(registry, message, "orders"), "orders")
    assert decoded == message
    assert decoded.limit_price.units == 187 and decoded.created_at.seconds == 1_767_225_600


def test_custom_field_options_survive_registration_and_the_round_trip(catalogue, registry, reader, server):
    module = catalogue.module(USERS)
    message = module.User(user_id="u-1", tenant_id="acme", email="ada@example.org", display_name="Ada")
    data = serialize(registry, message, "users")
    stored = rest_get(server, "/subjects/users-value/versions/1")
    assert {"name": "schemaregistry/options.proto", "subject": "schemaregistry/options.proto", "version": 1} in stored[
        "references"
    ]
    assert "(registry.v1.pii) = true" in stored["schema"]
    assert deserialize(reader, module.User, data, "users") == message


def test_serializing_again_reuses_the_id_without_a_new_version(catalogue, registry, open_client, server):
    first = read_frame(serialize(registry, order(catalogue), "orders")).schema_id
    again = read_frame(serialize(open_client(WRITER_CREDENTIALS), order(catalogue), "orders")).schema_id
    assert again == first
    assert rest_get(server, "/subjects/orders-value/versions") == [1]
    assert rest_get(server, f"/subjects/{subject_path('common/money.proto')}/versions") == [1]


def test_an_anonymous_serializer_may_not_register(catalogue, open_client):
    with pytest.raises(SchemaRegistryError) as raised:
        serialize(open_client(), tick(catalogue), "ticks")
    assert raised.value.http_status_code == 401


def test_a_reader_without_the_write_role_may_not_register(catalogue, reader):
    with pytest.raises(SchemaRegistryError) as raised:
        serialize(reader, tick(catalogue), "ticks")
    assert raised.value.http_status_code == 403


def test_deserializing_an_unknown_schema_id_fails(catalogue, reader):
    unknown = b"\x00" + (2**31 - 1).to_bytes(4, "big") + b"\x00"
    with pytest.raises((SchemaRegistryError, SerializationError)):
        deserialize(reader, catalogue.message(MARKET_DATA, "TickData"), unknown, "ticks")


def test_get_schema_returns_the_text_and_references_of_an_id(catalogue, registry, reader):
    schema_id = read_frame(serialize(registry, order(catalogue), "orders")).schema_id
    schema = reader.get_schema(schema_id)
    assert schema.schema_type == "PROTOBUF"
    assert "message Order" in schema.schema_str
    assert sorted(ref.name for ref in schema.references) == ["common/money.proto", "common/timestamp.proto"]


def test_get_latest_version_and_get_versions_follow_new_versions(registry, reader):
    first = registry.register_schema("ticks-value", Schema(TICK_V1, "PROTOBUF"))
    second = registry.register_schema("ticks-value", Schema(TICK_V2_ADDS_FIELD, "PROTOBUF"))
    assert second != first
    latest = reader.get_latest_version("ticks-value")
    assert (latest.version, latest.schema_id, latest.subject) == (2, second, "ticks-value")
    assert "venue" in latest.schema.schema_str
    assert reader.get_versions("ticks-value") == [1, 2]
    assert reader.get_version("ticks-value", 1).schema_id == first


def test_lookup_schema_finds_the_version_holding_a_schema(registry, reader):
    schema_id = registry.register_schema("ticks-value", Schema(TICK_V1, "PROTOBUF"))
    found = reader.lookup_schema("ticks-value", Schema(TICK_V1, "PROTOBUF"))
    assert (found.schema_id, found.version, found.subject) == (schema_id, 1, "ticks-value")
    with pytest.raises(SchemaRegistryError) as raised:
        reader.lookup_schema("ticks-value", Schema(TICK_V2_ADDS_FIELD, "PROTOBUF"))
    assert (raised.value.http_status_code, raised.value.error_code) == (404, 40403)


def test_test_compatibility_accepts_an_added_field_and_refuses_a_changed_type(registry):
    registry.register_schema("ticks-value", Schema(TICK_V1, "PROTOBUF"))
    assert registry.test_compatibility("ticks-value", Schema(TICK_V2_ADDS_FIELD, "PROTOBUF")) is True
    assert registry.test_compatibility("ticks-value", Schema(TICK_V2_CHANGES_TYPE, "PROTOBUF")) is False


def test_a_breaking_change_is_held_for_review_and_not_served(registry, reader):
    registry.register_schema("ticks-value", Schema(TICK_V1, "PROTOBUF"))
    held = registry.register_schema_full_response("ticks-value", Schema(TICK_V2_CHANGES_TYPE, "PROTOBUF"))
    assert held.schema_id is None  # the 202 answer carries a review id, not a schema id
    assert reader.get_versions("ticks-value") == [1]


def test_set_compatibility_is_read_back_and_lets_a_breaking_change_in(registry, reader):
    registry.register_schema("ticks-value", Schema(TICK_V1, "PROTOBUF"))
    config_update(
        tenant=Tenant.objects.get(slug="default"),
        subject_name="ticks-value",
        changes={"reviewPolicy": "none"},  # Confluent's behaviour: refuse a breaking change with 409
        acting_user=system_account(),
    )
    with pytest.raises(SchemaRegistryError) as raised:
        registry.register_schema("ticks-value", Schema(TICK_V2_CHANGES_TYPE, "PROTOBUF"))
    assert raised.value.http_status_code == 409
    registry.set_compatibility("ticks-value", "NONE")
    assert reader.get_compatibility("ticks-value") == "NONE"
    assert reader.get_compatibility() == "BACKWARD"
    registry.register_schema("ticks-value", Schema(TICK_V2_CHANGES_TYPE, "PROTOBUF"))
    assert reader.get_versions("ticks-value") == [1, 2]


def test_delete_subject_soft_deletes_then_purges(catalogue, registry, reader, server):
    serialize(registry, tick(catalogue), "ticks")
    assert rest_status(server, "/subjects/ticks-value/versions/1") == 200  # now in the server's cache
    assert registry.delete_subject("ticks-value") == [1]
    assert rest_status(server, "/subjects/ticks-value/versions/1") == 404
    with pytest.raises(SchemaRegistryError) as raised:
        reader.get_versions("ticks-value")
    assert raised.value.error_code == 40401
    assert registry.delete_subject("ticks-value", permanent=True) == [1]
    assert "ticks-value" not in reader.get_subjects(deleted=True)


def test_a_referenced_subject_cannot_be_deleted(catalogue, registry):
    serialize(registry, order(catalogue), "orders")
    with pytest.raises(SchemaRegistryError) as raised:
        registry.delete_subject("common/money.proto")
    assert raised.value.error_code == 42206


def test_a_bearer_token_serializes_and_reads_back(catalogue, open_client, writer):
    client = open_client(token=api_token(writer))
    message = tick(catalogue)
    data = serialize(client, message, "ticks")
    assert deserialize(client, type(message), data, "ticks") == message
    assert client.get_versions("ticks-value") == [1]


def test_a_wrong_bearer_token_is_refused(catalogue, open_client, writer):
    api_token(writer)
    with pytest.raises(SchemaRegistryError) as raised:
        open_client(token="sr_wrong-token").get_subjects()
    assert raised.value.http_status_code == 401 and raised.value.error_code == 40101


def test_basic_auth_with_a_wrong_password_is_refused(open_client, writer):
    with pytest.raises(SchemaRegistryError) as raised:
        open_client("writer:wrong-password").get_subjects()
    assert raised.value.http_status_code == 401
