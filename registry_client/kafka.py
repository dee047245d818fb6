"""Kafka serializers called like confluent-kafka's, writing and reading Confluent's wire format.

    serializer = ProtobufSerializer(TickData, client, {"auto.register.schemas": True})
    producer.produce(topic, value=serializer(tick, SerializationContext(topic, MessageField.VALUE)))

The bytes are interchangeable with confluent-kafka's `ProtobufSerializer` / `ProtobufDeserializer` (without
`use.deprecated.format`); pii fields are encrypted when a `pii.encryptor` is configured (see registry_client.pii).
"""

from dataclasses import dataclass

from google.protobuf.message import DecodeError, Message

from registry_client import wire
from registry_client.client import RegistryClient
from registry_client.errors import ConfigurationError, SerializationError
from registry_client.pii import FieldEncryptor, has_pii
from registry_client.schemas import Registration, WriterSchemas, reference_subject_name_strategy


class MessageField:
    """Which part of a Kafka record is (de)serialized; the same values as confluent-kafka's."""

    NONE = "none"
    KEY = "key"
    VALUE = "value"


@dataclass
class SerializationContext:
    """The topic and record part being (de)serialized; confluent-kafka's own context works as well."""

    topic: str
    field: str
    headers: list | None = None


def topic_subject_name_strategy(ctx, record_name: str | None) -> str:
    """<topic>-key or <topic>-value (Confluent's default)."""
    return f"{ctx.topic}-{ctx.field}"


def record_subject_name_strategy(ctx, record_name: str | None) -> str:
    """The message's full name, whatever the topic."""
    return record_name or ""


def topic_record_subject_name_strategy(ctx, record_name: str | None) -> str:
    """<topic>-<message full name>."""
    return f"{ctx.topic}-{record_name}"


def _options(conf: dict | None, defaults: dict, kind: str) -> dict:
    conf = dict(conf or {})
    unknown = sorted(set(conf) - set(defaults))
    if unknown:
        raise ConfigurationError(f"Unrecognized {kind} properties: {', '.join(unknown)}")
    options = {**defaults, **conf}
    if options["use.deprecated.format"]:
        raise ConfigurationError("use.deprecated.format is not supported: the registry writes the current format only")
    return options


class ProtobufSerializer:
    """Serialize a protobuf message with Confluent's framing, registering its schema (with imports) on first use.

    Configuration (confluent-kafka's keys, plus pii.*):
    auto.register.schemas (True), normalize.schemas (False), use.latest.version (False: with it, frame with the
    subject's latest id and register nothing), skip.known.types (True), subject.name.strategy,
    reference.subject.name.strategy, use.deprecated.format (must be False), pii.encryptor (a FieldEncryptor),
    pii.tenant.id (tenant whose data key encrypts messages without a tenant_id field).
    """

    DEFAULTS = {
        "auto.register.schemas": True,
        "normalize.schemas": False,
        "use.latest.version": False,
        "skip.known.types": True,
        "subject.name.strategy": topic_subject_name_strategy,
        "reference.subject.name.strategy": reference_subject_name_strategy,
        "use.deprecated.format": False,
        "pii.encryptor": None,
        "pii.tenant.id": None,
    }

    def __init__(self, msg_type: type[Message], schema_registry_client: RegistryClient, conf: dict | None = None):
        options = _options(conf, self.DEFAULTS, "serializer")
        if options["use.latest.version"] and options["auto.register.schemas"]:
            raise ConfigurationError("cannot enable both use.latest.version and auto.register.schemas")
        self.msg_type = msg_type
        self.registry = schema_registry_client
        self.use_latest = options["use.latest.version"]
        self.subject_name_strategy = options["subject.name.strategy"]
        self.encryptor: FieldEncryptor | None = options["pii.encryptor"]
        self.tenant_id = options["pii.tenant.id"]
        self.indexes = wire.message_indexes(msg_type.DESCRIPTOR)
        self.registration = Registration(
            schema_registry_client,
            auto_register=options["auto.register.schemas"],
            normalize=options["normalize.schemas"],
            skip_known_types=options["skip.known.types"],
            reference_subject_name_strategy=options["reference.subject.name.strategy"],
        )
        # Fail now, not on the first message, when a pii annotation sits on a field that cannot be encrypted.
        self.encrypts = has_pii(msg_type.DESCRIPTOR) and self.encryptor is not None
        self._headers: dict[tuple[str, str], bytes] = {}
        self._last_topic = self._last_field = self._last_header = None

    def subject(self, ctx) -> str:
        return self.subject_name_strategy(ctx, self.msg_type.DESCRIPTOR.full_name)

    def schema_id(self, ctx) -> int:
        """Return the schema id this serializer frames messages with for `ctx`'s subject."""
        subject = self.subject(ctx)
        if self.use_latest:
            return self.registry.get_latest_version(subject).schema_id
        return self.registration.schema_id(ctx, subject, self.msg_type.DESCRIPTOR.file)

    def header(self, ctx) -> bytes:
        """Return (and remember) the frame header for `ctx`: magic byte, schema id, message indexes."""
        found = self._headers[(ctx.topic, ctx.field)] = wire.header(self.schema_id(ctx), self.indexes)
        return found

    def payload(self, message: Message) -> bytes:
        """Return the message's protobuf bytes, with pii fields encrypted when an encryptor is configured."""
        if not self.encrypts:
            return message.SerializeToString()
        tenant = getattr(message, "tenant_id", "") or self.tenant_id
        return self.encryptor.encrypt(message, tenant).SerializeToString()

    def __call__(self, message: Message | None, ctx=None) -> bytes | None:
        if message is None:
            return None
        if type(message) is not self.msg_type and not isinstance(message, self.msg_type):
            raise SerializationError(f"message must be of type {self.msg_type.__name__} not {type(message).__name__}")
        if ctx is None:
            raise SerializationError("a SerializationContext (topic and field) is needed to name the subject")
        # The frame header is remembered per topic and field (what the subject strategies read); the last one is
        # compared first, since a serializer usually writes to one topic, so a cached message costs two comparisons.
        topic, field = ctx.topic, ctx.field
        if topic == self._last_topic and field == self._last_field and not self.use_latest:
            header = self._last_header
        else:
            header = None if self.use_latest else self._headers.get((topic, field))
            if header is None:
                header = self.header(ctx)
            self._last_topic, self._last_field, self._last_header = topic, field, header
        if self.encrypts:
            return header + self.payload(message)
        return header + message.SerializeToString()


class ProtobufDeserializer:
    """Read Confluent-framed bytes into `message_type`, checking that the writer's schema names the same type.

    Configuration: use.deprecated.format (must be False), pii.encryptor (a FieldEncryptor able to decrypt; without
    one, or without the key, pii fields stay encrypted and the rest of the message is readable).
    """

    DEFAULTS = {"use.deprecated.format": False, "pii.encryptor": None, "subject.name.strategy": None}

    def __init__(
        self,
        message_type: type[Message],
        conf: dict | None = None,
        schema_registry_client: RegistryClient | None = None,
    ):
        options = _options(conf, self.DEFAULTS, "deserializer")
        self.message_type = message_type
        self.full_name = message_type.DESCRIPTOR.full_name
        self.writers = WriterSchemas(schema_registry_client) if schema_registry_client is not None else None
        self.encryptor: FieldEncryptor | None = options["pii.encryptor"]
        self.decrypts = self.encryptor is not None and has_pii(message_type.DESCRIPTOR)
        # Fields the last call left encrypted (no key, or another key); empty when all were read.
        self.left_encrypted: list[str] = []
        # (schema id, message indexes) pairs already known to frame this deserializer's type.
        self._checked: set[tuple[int, tuple[int, ...]]] = set()
        self._last_id, self._last_indexes = None, None

    def __call__(self, data: bytes | None, ctx=None) -> Message | None:
        if data is None:
            return None
        schema_id, indexes, payload = wire.split_frame(data)
        # The writer's type is checked once per (schema id, indexes); the last pair is compared first.
        if self.writers is not None and not (schema_id == self._last_id and indexes == self._last_indexes):
            if (schema_id, indexes) not in self._checked:
                written = self.writers.message_name(schema_id, indexes)
                if written != self.full_name:
                    raise SerializationError(
                        f"Schema {schema_id} frames a {written} message; this deserializer reads {self.full_name}"
                    )
                self._checked.add((schema_id, indexes))
            self._last_id, self._last_indexes = schema_id, indexes
        try:
            message = self.message_type.FromString(payload)
        except DecodeError as error:
            raise SerializationError(f"Bytes framed with schema {schema_id} do not parse: {error}") from None
        if self.decrypts:
            self.left_encrypted = self.encryptor.decrypt(message, getattr(message, "tenant_id", None))
        return message
