"""Message classes from compiled descriptors, and sample data for any message.

Sample data is a plain, JSON-ready dict (field names as in the .proto, enums by
name, well-known types in their JSON form), so one value serves both sides of a
comparison: `json.dumps(data)` and `to_message(cls, data).SerializeToString()`.

Message classes come from a private descriptor pool. Under the upb backend they
are the same C types a generated `_pb2` module builds when imported (that module
only adds its serialized file to a pool and asks for its classes), without the
process-wide default pool or import-path clashes such as the catalogue's
`registry` package against the Django project.
"""

import base64
import json
from collections.abc import Iterable, Iterator

from google.protobuf import descriptor_pool, json_format, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.descriptor_pb2 import FileDescriptorProto
from google.protobuf.message import Message

# Nesting deeper than this is left empty, so recursive messages (Struct, trees) end.
MAX_DEPTH = 3
# How many items a repeated field or map gets.
REPEATED_ITEMS = 3
MAP_ENTRIES = 2


def message_pool(files: Iterable[FileDescriptorProto]) -> descriptor_pool.DescriptorPool:
    """Return a new pool holding `files` (dependencies first, as CompiledFiles.files are)."""
    pool = descriptor_pool.DescriptorPool()
    for file in files:
        pool.AddSerializedFile(file.SerializeToString())
    return pool


def message_class(pool: descriptor_pool.DescriptorPool, full_name: str) -> type[Message]:
    """Return the message class of a fully qualified name such as "trading.v1.TickData"."""
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(full_name))


def to_message(cls: type[Message], data: dict) -> Message:
    """Return a message of `cls` holding the JSON-ready `data` (ints and names accepted where JSON allows)."""
    return json_format.ParseDict(data, cls(), descriptor_pool=cls.DESCRIPTOR.file.pool)


def messages_of_file(pool: descriptor_pool.DescriptorPool, path: str) -> Iterator[Descriptor]:
    """Yield every message declared in a file, nested ones after their parent, map entries left out."""
    file = pool.FindFileByName(path)
    pending = list(file.message_types_by_name.values())
    while pending:
        message = pending.pop(0)
        if message.GetOptions().map_entry:
            continue
        yield message
        pending[:0] = message.nested_types


def sample_data(message: Descriptor, depth: int = 0) -> dict:
    """Return a filled JSON-ready dict for `message`: every field set, one field per oneof."""
    data = {}
    for field in message.fields:
        if field.containing_oneof is not None and field.containing_oneof.fields[0] is not field:
            continue
        value = _field_value(field, depth)
        if value is not None:
            data[field.name] = value
    return data


def _field_value(field: FieldDescriptor, depth: int):
    if _is_map(field):
        return _map_value(field, depth)
    if field.is_repeated:
        items = [_single_value(field, depth, index) for index in range(1, REPEATED_ITEMS + 1)]
        return [item for item in items if item is not None] or None
    return _single_value(field, depth, 1)


def _is_map(field: FieldDescriptor) -> bool:
    return field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type.GetOptions().map_entry


def _map_value(field: FieldDescriptor, depth: int) -> dict | None:
    key_field, value_field = field.message_type.fields_by_name["key"], field.message_type.fields_by_name["value"]
    entries = {}
    for index in range(1, MAP_ENTRIES + 1):
        value = _single_value(value_field, depth, index)
        if value is not None:
            entries[_json_key(_single_value(key_field, depth, index))] = value
    return entries or None


def _json_key(key) -> str:
    """Return a map key as JSON writes it: object keys are strings whatever the key type."""
    return json.dumps(key) if isinstance(key, bool) else str(key)


def _single_value(field: FieldDescriptor, depth: int, index: int):
    if field.type in (FieldDescriptor.TYPE_MESSAGE, FieldDescriptor.TYPE_GROUP):
        return _message_value(field.message_type, depth + 1, index)
    if field.type == FieldDescriptor.TYPE_ENUM:
        return _enum_value(field)
    return _SCALAR_VALUES[field.type](field.name, index)


def _message_value(message: Descriptor, depth: int, index: int):
    well_known = _WELL_KNOWN_VALUES.get(message.full_name)
    if well_known is not None:
        return well_known(index)
    if depth > MAX_DEPTH:
        return None
    return sample_data(message, depth)


def _enum_value(field: FieldDescriptor) -> str:
    """Return the first value that is not the zero default (the zero one when it is alone)."""
    values = field.enum_type.values
    chosen = next((value for value in values if value.number != 0), values[0])
    return chosen.name


def _text(name: str, index: int) -> str:
    for suffix, sample in _TEXT_BY_NAME:
        if name == suffix or name.endswith("_" + suffix):
            return sample if index == 1 else f"{sample}-{index}"
    return f"{name.replace('_', '-')}-{index}"


def _integer(name: str, index: int) -> int:
    # Times in milliseconds look like times, so their varints are as long as real ones.
    if name.endswith(("_ms", "_at", "timestamp")):
        return 1_718_031_000_000 + index * 250
    return 40 + index


def _small_integer(name: str, index: int) -> int:
    return 40 + index


def _number(name: str, index: int) -> float:
    return round(101.25 + index * 0.75, 2)


def _flag(name: str, index: int) -> bool:
    return index % 2 == 1


def _bytes(name: str, index: int) -> str:
    return base64.b64encode(f"{name}:{index}".encode()).decode()


# Field name (or its last word) -> a realistic text; anything else gets "field-name-N".
_TEXT_BY_NAME = (
    ("symbol", "AAPL"),
    ("tenant_id", "acme-trading"),
    ("currency_code", "USD"),
    ("email", "trader@example.com"),
    ("id", "7f3c9a12-5b2e-4d1a-9c33-0e8b6f21d4a7"),
    ("source", "nasdaq-itch"),
    ("venue", "XNAS"),
)

_SCALAR_VALUES = {
    FieldDescriptor.TYPE_STRING: _text,
    FieldDescriptor.TYPE_BYTES: _bytes,
    FieldDescriptor.TYPE_BOOL: _flag,
    FieldDescriptor.TYPE_DOUBLE: _number,
    FieldDescriptor.TYPE_FLOAT: _number,
    FieldDescriptor.TYPE_INT64: _integer,
    FieldDescriptor.TYPE_SINT64: _integer,
    FieldDescriptor.TYPE_SFIXED64: _integer,
    FieldDescriptor.TYPE_UINT64: _integer,
    FieldDescriptor.TYPE_FIXED64: _integer,
    FieldDescriptor.TYPE_INT32: _small_integer,
    FieldDescriptor.TYPE_SINT32: _small_integer,
    FieldDescriptor.TYPE_SFIXED32: _small_integer,
    FieldDescriptor.TYPE_UINT32: _small_integer,
    FieldDescriptor.TYPE_FIXED32: _small_integer,
}

# Well-known types in their JSON form (ParseDict reads exactly these).
_WELL_KNOWN_VALUES = {
    "google.protobuf.Timestamp": lambda index: f"2024-06-10T14:30:{index:02d}.250Z",
    "google.protobuf.Duration": lambda index: f"{index * 30}s",
    "google.protobuf.FieldMask": lambda index: "symbol,tenantId",
    "google.protobuf.Struct": lambda index: {"region": "eu-west-1", "replicas": index},
    "google.protobuf.Value": lambda index: f"value-{index}",
    "google.protobuf.ListValue": lambda index: ["a", index],
    "google.protobuf.Empty": lambda index: {},
    # An Any names a type that may not be in the pool, so it stays empty.
    "google.protobuf.Any": lambda index: None,
    "google.protobuf.DoubleValue": lambda index: 1.5 * index,
    "google.protobuf.FloatValue": lambda index: 0.5 * index,
    "google.protobuf.Int64Value": lambda index: 1000 * index,
    "google.protobuf.UInt64Value": lambda index: 1000 * index,
    "google.protobuf.Int32Value": lambda index: index,
    "google.protobuf.UInt32Value": lambda index: index,
    "google.protobuf.BoolValue": lambda index: True,
    "google.protobuf.StringValue": lambda index: f"text-{index}",
    "google.protobuf.BytesValue": lambda index: base64.b64encode(b"bytes").decode(),
}
