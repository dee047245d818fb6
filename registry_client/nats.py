"""NATS (JetStream) producer and consumer: plain protobuf payloads, the schema named in headers.

A NATS message carries the protobuf bytes as they are (no Confluent framing); its headers say what they are:

    Content-Type: application/x-protobuf
    Schema-Id: 42                      (the registry's id of the .proto file)
    Schema-Subject: trading.v1.TickData
    Message-Type: trading.v1.TickData  (full name of the message inside that file)
    Tenant-Id: acme

The consumer checks every message against the registry (through the client's caches) before handing it over,
and refuses one whose schema is unknown, disabled, not registered under its subject, of a type it does not read,
or of another tenant. A refused message is never lost: it is negatively acknowledged so that JetStream delivers it
again (the default, with `max_deliver` left unlimited), or, with `on.refusal = "dead-letter"`, copied to a
dead-letter subject through JetStream (with the reason in a `Refused-Reason` header) and only then terminated.
If the registry cannot be reached, the message is always redelivered: it may well be valid.

Lookups are HTTP calls made on the first message of each schema only, in a worker thread so that the event loop
goes on; after that they are cache hits (a version's state is read again after `cache.state.ttl.sec`).
"""

import asyncio
from collections.abc import Iterable

from google.protobuf.message import DecodeError, Message

from registry_client.client import RegistryClient
from registry_client.errors import ConfigurationError, MessageRefused, SchemaRegistryError
from registry_client.kafka import MessageField, ProtobufSerializer, SerializationContext, record_subject_name_strategy
from registry_client.pii import FieldEncryptor
from registry_client.schemas import WriterSchemas

CONTENT_TYPE = "application/x-protobuf"
CONTENT_TYPE_HEADER = "Content-Type"
SCHEMA_ID_HEADER = "Schema-Id"
SUBJECT_HEADER = "Schema-Subject"
MESSAGE_TYPE_HEADER = "Message-Type"
TENANT_HEADER = "Tenant-Id"
REFUSED_REASON_HEADER = "Refused-Reason"
ORIGINAL_SUBJECT_HEADER = "Original-Subject"
DISABLED = "disabled"
SCHEMA_NOT_FOUND = 40403


class NatsProducer:
    """Publish protobuf messages with the registry's headers, registering each message type's schema once.

    `publisher` is a nats-py JetStream context (or a plain connection): anything with
    `await publish(subject, payload, headers=...)`. Configuration: the ProtobufSerializer's keys; the subject
    name strategy defaults to the record strategy (the message's full name), since NATS subjects often carry
    tenants or symbols.
    """

    def __init__(self, publisher, client: RegistryClient, conf: dict | None = None):
        self.publisher = publisher
        self.client = client
        self.conf = {"subject.name.strategy": record_subject_name_strategy, **(conf or {})}
        self._serializers: dict[type, ProtobufSerializer] = {}
        self._schema_headers: dict[tuple[str, type], dict[str, str]] = {}

    def serializer(self, message_type: type[Message]) -> ProtobufSerializer:
        found = self._serializers.get(message_type)
        if found is None:
            found = self._serializers[message_type] = ProtobufSerializer(message_type, self.client, self.conf)
        return found

    def headers(self, subject: str, message: Message, tenant_id: str | None = None) -> dict[str, str]:
        """Return the headers of `message` published on `subject`; the schema part is looked up once per pair."""
        key = (subject, type(message))
        schema_headers = self._schema_headers.get(key)
        if schema_headers is None or self.serializer(type(message)).use_latest:
            serializer = self.serializer(type(message))
            context = SerializationContext(subject, MessageField.VALUE)
            schema_headers = self._schema_headers[key] = {
                CONTENT_TYPE_HEADER: CONTENT_TYPE,
                SCHEMA_ID_HEADER: str(serializer.schema_id(context)),
                SUBJECT_HEADER: serializer.subject(context),
                MESSAGE_TYPE_HEADER: message.DESCRIPTOR.full_name,
            }
        return {**schema_headers, TENANT_HEADER: tenant_id or getattr(message, "tenant_id", "") or ""}

    async def publish(self, subject: str, message: Message, *, tenant_id: str | None = None, headers=None):
        """Publish `message` on the NATS subject; return what the publisher returns (JetStream's PubAck)."""
        all_headers = {**self.headers(subject, message, tenant_id), **(headers or {})}
        payload = self.serializer(type(message)).payload(message)
        return await self.publisher.publish(subject, payload, headers=all_headers)


class NatsConsumer:
    """Check and decode JetStream messages the producer wrote; refuse, without losing, those that do not fit.

    Configuration:
    tenant.id (None): the tenant this consumer serves; messages of any other (header or `tenant_id` field) are refused.
    on.refusal ("redeliver"): "redeliver" naks the message, "dead-letter" moves it to dead.letter.subject.
    dead.letter.subject (None), dead.letter.publisher (None): where, and through what (a JetStream context), refused
    messages go.
    redelivery.delay.sec (1.0): how long JetStream waits before delivering a refused message again.
    pii.encryptor (None): a FieldEncryptor able to decrypt pii fields; without one they stay encrypted.
    """

    DEFAULTS = {
        "tenant.id": None,
        "on.refusal": "redeliver",
        "dead.letter.subject": None,
        "dead.letter.publisher": None,
        "redelivery.delay.sec": 1.0,
        "pii.encryptor": None,
    }

    def __init__(self, client: RegistryClient, message_types: Iterable[type[Message]], conf: dict | None = None):
        unknown = sorted(set(conf or {}) - set(self.DEFAULTS))
        if unknown:
            raise ConfigurationError(f"Unrecognized consumer properties: {', '.join(unknown)}")
        options = {**self.DEFAULTS, **(conf or {})}
        if options["on.refusal"] not in ("redeliver", "dead-letter"):
            raise ConfigurationError('on.refusal must be "redeliver" or "dead-letter"')
        if options["on.refusal"] == "dead-letter" and not (
            options["dead.letter.subject"] and options["dead.letter.publisher"]
        ):
            raise ConfigurationError('on.refusal "dead-letter" needs dead.letter.subject and dead.letter.publisher')
        self.client = client
        self.types = {message_type.DESCRIPTOR.full_name: message_type for message_type in message_types}
        self.tenant_id = options["tenant.id"]
        self.on_refusal = options["on.refusal"]
        self.dead_letter_subject = options["dead.letter.subject"]
        self.dead_letter_publisher = options["dead.letter.publisher"]
        self.redelivery_delay = float(options["redelivery.delay.sec"])
        self.encryptor: FieldEncryptor | None = options["pii.encryptor"]
        self.writers = WriterSchemas(client)
        # Fields the last message left encrypted (no key, or another key).
        self.left_encrypted: list[str] = []
        # Schema ids (as their header text) already accepted once, whose lookups are now cache hits.
        self._seen_ids: set[str] = set()

    async def receive(self, msg) -> Message:
        """Return the decoded message (the caller acknowledges it once handled), or refuse it and raise."""
        headers = msg.headers or {}
        try:
            if headers.get(SCHEMA_ID_HEADER) in self._seen_ids:
                message = self.decode(headers, msg.data)
            else:
                # The first message of a schema asks the registry over HTTP: off the event loop.
                message = await asyncio.to_thread(self.decode, headers, msg.data)
                self._seen_ids.add(headers.get(SCHEMA_ID_HEADER))
        except _Refusal as refusal:
            action = await self._refuse(msg, refusal.reason, transient=refusal.transient)
            raise MessageRefused(refusal.reason, action=action) from None
        return message

    def decode(self, headers: dict, data: bytes) -> Message:
        """Check headers against the registry and decode; raise _Refusal with the reason when it does not fit."""
        if headers.get(CONTENT_TYPE_HEADER) != CONTENT_TYPE:
            raise _Refusal(f"Content-Type is {headers.get(CONTENT_TYPE_HEADER)!r}, not {CONTENT_TYPE}")
        try:
            schema_id = int(headers.get(SCHEMA_ID_HEADER, ""))
        except ValueError:
            raise _Refusal(f"Schema-Id header {headers.get(SCHEMA_ID_HEADER)!r} is not a schema id") from None
        tenant = headers.get(TENANT_HEADER, "")
        if self.tenant_id is not None and tenant != self.tenant_id:
            raise _Refusal(f"message of tenant {tenant!r} refused by a consumer of tenant {self.tenant_id!r}")
        type_name = headers.get(MESSAGE_TYPE_HEADER, "")
        message_type = self.types.get(type_name)
        if message_type is None:
            raise _Refusal(
                f"no message class for Message-Type {type_name!r} (this consumer reads {sorted(self.types)})"
            )
        self._check_schema(schema_id, headers.get(SUBJECT_HEADER, ""), type_name)
        message = message_type()
        try:
            message.ParseFromString(data)
        except DecodeError as error:
            raise _Refusal(f"payload does not parse as {type_name}: {error}") from None
        body_tenant = getattr(message, "tenant_id", None)
        if self.tenant_id is not None and body_tenant is not None and body_tenant != self.tenant_id:
            raise _Refusal(f"message body names tenant {body_tenant!r}; this consumer serves {self.tenant_id!r}")
        if self.encryptor is not None:
            self.left_encrypted = self.encryptor.decrypt(message, body_tenant or tenant or None)
        return message

    def _check_schema(self, schema_id: int, subject: str, type_name: str) -> None:
        try:
            if type_name not in self.writers.message_names(schema_id):
                raise _Refusal(f"schema {schema_id} does not declare message {type_name}")
            versions = [
                (name, number) for name, number in self.client.get_schema_versions(schema_id) if name == subject
            ]
            if not versions:
                raise _Refusal(f"schema {schema_id} is not registered under subject {subject!r}")
            states = {self.client.get_version(name, number).state for name, number in versions}
        except SchemaRegistryError as error:
            if error.error_code == SCHEMA_NOT_FOUND:
                raise _Refusal(f"schema id {schema_id} is unknown to the registry") from None
            transient = error.http_status_code < 0 or error.http_status_code >= 500
            raise _Refusal(f"schema {schema_id} could not be checked: {error}", transient=transient) from None
        if states == {DISABLED}:
            raise _Refusal(f"schema {schema_id} is disabled under subject {subject!r}")

    async def _refuse(self, msg, reason: str, *, transient: bool) -> str:
        if self.on_refusal == "dead-letter" and not transient:
            headers = {**(msg.headers or {}), REFUSED_REASON_HEADER: reason, ORIGINAL_SUBJECT_HEADER: msg.subject}
            try:
                await self.dead_letter_publisher.publish(self.dead_letter_subject, msg.data, headers=headers)
            except Exception:  # the dead-letter copy failed, for whatever reason: keep the original for redelivery
                await msg.nak(delay=self.redelivery_delay)
                return "redelivered"
            await msg.term()
            return "dead-lettered"
        await msg.nak(delay=self.redelivery_delay)
        return "redelivered"


class _Refusal(Exception):
    def __init__(self, reason: str, *, transient: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


__all__ = ["NatsConsumer", "NatsProducer"]
