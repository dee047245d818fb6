"""registry_client.kafka against confluent-kafka's own serializers and the live registry, both directions.

No Kafka broker is involved: serializers only talk to the registry, so the bytes are what a broker would carry.
"""

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry import protobuf as confluent_protobuf
from confluent_kafka.serialization import MessageField, SerializationContext

from registry_client import RegistryClient, SchemaRegistryError, SerializationError
from registry_client.kafka import (
    ProtobufDeserializer,
    ProtobufSerializer,
    record_subject_name_strategy,
    topic_record_subject_name_strategy,
)
from registry_client.wire import read_frame

pytestmark = pytest.mark.django_db(transaction=True)

ORDERS = "trading/orders.proto"
MARKET_DATA = "trading/market_data.proto"
WRITER = "writer:writer-password"
CONFLUENT_DESERIALIZER_CONFIG = {"use.deprecated.format": False}


@pytest.fixture
def clients(server, writer):
    """Open our client and confluent-kafka's, both signed in as the writer; close them after the test."""
    ours = RegistryClient({"url": server.url, "basic.auth.user.info": WRITER})
    theirs = SchemaRegistryClient({"url": server.url, "basic.auth.user.info": WRITER})
    yield ours, theirs
    ours.close()
    theirs.close()


def execution_report(catalogue):
    """An ExecutionReport: imports common/money.proto, nests Fill, and holds a google.protobuf.Timestamp."""
    module = catalogue.module(ORDERS)
    report = module.ExecutionReport(execution_id="ex-1", tenant_id="acme", order_id="ord-1", symbol="AAPL")
    report.fill.fill_id, report.fill.quantity, report.fill.venue = "f-1", 40.0, "XNAS"
    report.fill.price.currency_code, report.fill.price.units, report.fill.price.nanos = "USD", 187, 250_000_000
    report.transact_time.FromSeconds(1_767_225_600)
    report.side = module.ORDER_SIDE_BUY
    return report


def context(topic: str) -> SerializationContext:
    return SerializationContext(topic, MessageField.VALUE)


def test_our_bytes_decode_with_confluent_kafkas_deserializer(catalogue, clients):
    ours, theirs = clients
    report = execution_report(catalogue)
    data = ProtobufSerializer(type(report), ours)(report, context("executions"))
    decoded = confluent_protobuf.ProtobufDeserializer(type(report), CONFLUENT_DESERIALIZER_CONFIG, theirs)(
        data, context("executions")
    )
    assert decoded == report
    assert decoded.transact_time.seconds == 1_767_225_600 and decoded.fill.price.units == 187


def test_confluent_kafkas_bytes_decode_with_our_deserializer(catalogue, clients):
    ours, theirs = clients
    report = execution_report(catalogue)
    serializer = confluent_protobuf.ProtobufSerializer(
        type(report), theirs, {"auto.register.schemas": True, "use.deprecated.format": False}
    )
    data = serializer(report, context("executions"))
    assert ProtobufDeserializer(type(report), {}, ours)(data, context("executions")) == report


def test_both_serializers_write_the_same_bytes_and_register_the_same_references(catalogue, clients, server):
    ours, theirs = clients
    report = execution_report(catalogue)
    confluent_bytes = confluent_protobuf.ProtobufSerializer(
        type(report), theirs, {"auto.register.schemas": True, "use.deprecated.format": False}
    )(report, context("executions"))
    our_bytes = ProtobufSerializer(type(report), RegistryClient({"url": server.url, "basic.auth.user.info": WRITER}))(
        report, context("executions")
    )
    assert our_bytes == confluent_bytes
    assert ours.get_versions("executions-value") == [1]
    references = ours.get_latest_version("executions-value").schema.references
    assert sorted(ref.name for ref in references) == ["common/money.proto", "common/timestamp.proto"]


def test_a_nested_message_is_framed_with_its_index_path_both_ways(catalogue, clients):
    ours, theirs = clients
    fill = catalogue.module(ORDERS).ExecutionReport.Fill(fill_id="f-2", quantity=5.0, venue="XLON")
    data = ProtobufSerializer(type(fill), ours)(fill, context("fills"))
    frame = read_frame(data)
    assert frame.message_indexes == (1, 0)
    assert data[5:8] == b"\x04\x02\x00"  # two indexes, 1 and 0, zigzag-encoded
    assert (
        confluent_protobuf.ProtobufDeserializer(type(fill), CONFLUENT_DESERIALIZER_CONFIG, theirs)(
            data, context("fills")
        )
        == fill
    )
    confluent_bytes = confluent_protobuf.ProtobufSerializer(
        type(fill), theirs, {"auto.register.schemas": True, "use.deprecated.format": False}
    )(fill, context("fills"))
    assert confluent_bytes == data


def test_the_first_message_of_a_file_uses_the_single_zero_byte(catalogue, clients):
    ours, _ = clients
    tick = catalogue.message(MARKET_DATA, "TickData")(symbol="EURUSD", bid=1.0841, tenant_id="acme")
    data = ProtobufSerializer(type(tick), ours)(tick, context("ticks"))
    assert data[0] == 0 and data[5:6] == b"\x00"
    assert data[6:] == tick.SerializeToString()


def test_record_and_topic_record_strategies_name_the_subject_after_the_message(catalogue, clients):
    ours, _ = clients
    tick = catalogue.message(MARKET_DATA, "TickData")(symbol="EURUSD")
    ProtobufSerializer(type(tick), ours, {"subject.name.strategy": record_subject_name_strategy})(
        tick, context("ticks")
    )
    ProtobufSerializer(type(tick), ours, {"subject.name.strategy": topic_record_subject_name_strategy})(
        tick, context("ticks")
    )
    assert {"trading.v1.TickData", "ticks-trading.v1.TickData"} <= set(ours.get_subjects())


def test_latest_version_lookup_registers_nothing_and_fails_clearly_without_a_version(catalogue, clients):
    ours, _ = clients
    tick = catalogue.message(MARKET_DATA, "TickData")(symbol="EURUSD")
    latest_only = ProtobufSerializer(type(tick), ours, {"auto.register.schemas": False, "use.latest.version": True})
    with pytest.raises(SchemaRegistryError) as raised:
        latest_only(tick, context("quotes"))
    assert raised.value.error_code == 40401 and "quotes-value" in str(raised.value)
    registered = read_frame(ProtobufSerializer(type(tick), ours)(tick, context("quotes"))).schema_id
    assert read_frame(latest_only(tick, context("quotes"))).schema_id == registered


def test_a_deserializer_refuses_bytes_written_for_another_message_type(catalogue, clients):
    ours, _ = clients
    tick = catalogue.message(MARKET_DATA, "TickData")(symbol="EURUSD")
    data = ProtobufSerializer(type(tick), ours)(tick, context("ticks"))
    with pytest.raises(SerializationError, match="frames a trading.v1.TickData message"):
        ProtobufDeserializer(catalogue.message(MARKET_DATA, "Trade"), {}, ours)(data, context("ticks"))


def test_an_unknown_schema_id_is_a_clear_registry_error(catalogue, clients):
    ours, _ = clients
    unknown = b"\x00" + (2**31 - 1).to_bytes(4, "big") + b"\x00"
    with pytest.raises(SchemaRegistryError) as raised:
        ProtobufDeserializer(catalogue.message(MARKET_DATA, "TickData"), {}, ours)(unknown, context("ticks"))
    assert (raised.value.http_status_code, raised.value.error_code) == (404, 40403)
