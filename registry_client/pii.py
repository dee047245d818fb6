"""Encryption of personal data fields: fields annotated `(registry.v1.pii) = true` never travel in the clear.

Envelope encryption with AES-256-GCM: each tenant gets a random 256-bit data key, wrapped by a
key-encryption key (KEK) that a pluggable `KeySource` holds (`LocalKeyFile` by default). Every
encrypted value carries its own envelope, so any consumer holding the KEK can decrypt it:

    envelope = b"PII\\x01" | tenant | KEK id | wrapped data key | 12-byte nonce | ciphertext and tag
               (tenant, KEK id and wrapped key each preceded by its length in one byte)

How an encrypted field is carried, so that the message still parses with its own schema:
- a `bytes` field carries the envelope itself;
- a `string` field carries "pii1:" followed by the envelope in unpadded URL-safe base64;
- a message field marked pii is serialized and encrypted whole; the submessage is sent empty except for
  the envelope in field number 536870911 (the largest protobuf allows), which parsers keep as an unknown field;
- repeated fields have each element encrypted; numeric, enum and bool fields cannot carry ciphertext, so
  marking one pii makes the serializer refuse the message type (wrap the value in a message instead).

The field's full name and the tenant are bound to each ciphertext as associated data: a value copied into
another field or another tenant's message does not decrypt. A consumer without the KEK (or with another)
gets the message with those fields left encrypted; `decrypt` reports which, and never raises.
"""

import base64
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from registry_client import _protowire
from registry_client.errors import ConfigurationError, SerializationError

PII_OPTION_NUMBER = 50001  # `registry.v1.pii` in schemaregistry/options.proto
ENVELOPE_MAGIC = b"PII\x01"
STRING_PREFIX = "pii1:"
ENVELOPE_FIELD_NUMBER = 536_870_911
NONCE_SIZE = 12
KEY_SIZE = 32


class KeyUnavailable(Exception):
    """The key source cannot unwrap this data key (unknown KEK id, or the wrong key)."""


class KeySource:
    """Holds the key-encryption key; subclasses wrap and unwrap data keys (a KMS, a vault, a file)."""

    key_id: str

    def wrap(self, data_key: bytes, context: bytes) -> bytes:
        raise NotImplementedError

    def unwrap(self, wrapped: bytes, key_id: str, context: bytes) -> bytes:
        raise NotImplementedError


class LocalKeyFile(KeySource):
    """A 256-bit KEK kept in a local file as 64 hexadecimal digits; its id defaults to the file name."""

    def __init__(self, path: str | os.PathLike, key_id: str | None = None):
        path = Path(path)
        try:
            key = bytes.fromhex(path.read_text().strip())
        except (OSError, ValueError) as error:
            raise ConfigurationError(f"Cannot read a 256-bit hex key from {path}: {error}") from None
        if len(key) != KEY_SIZE:
            raise ConfigurationError(f"{path} holds a {len(key) * 8}-bit key; AES-256 needs 64 hex digits")
        self.key_id = key_id or path.stem
        self._aead = AESGCM(key)

    @classmethod
    def create(cls, path: str | os.PathLike, key_id: str | None = None) -> "LocalKeyFile":
        """Write a new random KEK to `path`, readable by its owner only, and return the source."""
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(KEY_SIZE) + "\n")
        return cls(path, key_id)

    def wrap(self, data_key: bytes, context: bytes) -> bytes:
        nonce = secrets.token_bytes(NONCE_SIZE)
        return nonce + self._aead.encrypt(nonce, data_key, context)

    def unwrap(self, wrapped: bytes, key_id: str, context: bytes) -> bytes:
        if key_id != self.key_id:
            raise KeyUnavailable(f"data key was wrapped by KEK {key_id!r}; this source holds {self.key_id!r}")
        try:
            return self._aead.decrypt(wrapped[:NONCE_SIZE], wrapped[NONCE_SIZE:], context)
        except InvalidTag:
            raise KeyUnavailable(f"KEK {key_id!r} of this source does not unwrap the data key") from None


@dataclass(frozen=True)
class _Plan:
    """The pii-relevant fields of one message type: encrypt these, recurse into those."""

    encrypted: tuple[FieldDescriptor, ...]
    nested: tuple[FieldDescriptor, ...]


def is_pii(field: FieldDescriptor) -> bool:
    """Return True when the field carries `(registry.v1.pii) = true`, known to this process's pool or not."""
    options = field.GetOptions().SerializeToString()
    return any(
        number == PII_OPTION_NUMBER and wire_type == _protowire.VARINT and value
        for number, wire_type, value in _protowire.fields(options)
    )


def _is_message(field: FieldDescriptor) -> bool:
    return field.type in (FieldDescriptor.TYPE_MESSAGE, FieldDescriptor.TYPE_GROUP)


def _is_repeated(field: FieldDescriptor) -> bool:
    # protobuf 6 added `is_repeated`; 7 removed `label`.
    is_repeated = getattr(field, "is_repeated", None)
    return is_repeated if is_repeated is not None else field.label == FieldDescriptor.LABEL_REPEATED


_plans: dict[Descriptor, _Plan] = {}
_plans_lock = threading.Lock()


def plan_for(descriptor: Descriptor, _visiting: frozenset = frozenset()) -> _Plan:
    """Return (and remember) which fields of a message type are encrypted and which lead to encrypted ones."""
    cached = _plans.get(descriptor)
    if cached is not None:
        return cached
    encrypted, nested = [], []
    for field in descriptor.fields:
        if is_pii(field):
            if not (_is_message(field) or field.type in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES)):
                raise SerializationError(
                    f"Field {field.full_name} is marked pii but is a scalar that cannot carry ciphertext; "
                    "only string, bytes and message fields can be encrypted (wrap the value in a message)"
                )
            encrypted.append(field)
        elif (
            _is_message(field)
            and field.message_type.full_name not in _visiting
            and has_pii(field.message_type, _visiting | {descriptor.full_name})
        ):
            nested.append(field)
    plan = _Plan(tuple(encrypted), tuple(nested))
    with _plans_lock:
        _plans[descriptor] = plan
    return plan


def has_pii(descriptor: Descriptor, _visiting: frozenset = frozenset()) -> bool:
    plan = plan_for(descriptor, _visiting)
    return bool(plan.encrypted or plan.nested)


def _encode_envelope(tenant: str, key_id: str, wrapped: bytes, nonce: bytes, ciphertext: bytes) -> bytes:
    parts = [ENVELOPE_MAGIC]
    for part in (tenant.encode(), key_id.encode(), wrapped):
        if len(part) > 255:
            raise SerializationError("tenant ids, KEK ids and wrapped keys are limited to 255 bytes")
        parts += [bytes([len(part)]), part]
    return b"".join([*parts, nonce, ciphertext])


def _decode_envelope(envelope: bytes) -> tuple[str, str, bytes, bytes, bytes]:
    if not envelope.startswith(ENVELOPE_MAGIC):
        raise ValueError("not a pii envelope")
    offset, parts = len(ENVELOPE_MAGIC), []
    for _ in range(3):
        size = envelope[offset]
        parts.append(envelope[offset + 1 : offset + 1 + size])
        offset += 1 + size
    tenant, key_id, wrapped = parts[0].decode(), parts[1].decode(), parts[2]
    return tenant, key_id, wrapped, envelope[offset : offset + NONCE_SIZE], envelope[offset + NONCE_SIZE :]


def _data_key_context(tenant: str, key_id: str) -> bytes:
    return b"registry.v1.pii data key\0" + tenant.encode() + b"\0" + key_id.encode()


def _field_context(field: FieldDescriptor, tenant: str) -> bytes:
    return field.full_name.encode() + b"\0" + tenant.encode()


def is_encrypted(value: str | bytes) -> bool:
    """Return True when a string or bytes field value holds an envelope rather than data."""
    return value.startswith(STRING_PREFIX) if isinstance(value, str) else bytes(value).startswith(ENVELOPE_MAGIC)


class FieldEncryptor:
    """Encrypt and decrypt a message's pii fields; without a key source it can only report them encrypted."""

    def __init__(self, key_source: KeySource | None):
        self.key_source = key_source
        self._data_keys: dict[str, tuple[AESGCM, bytes]] = {}
        self._unwrapped: dict[tuple[str, str, bytes], AESGCM] = {}
        self._lock = threading.Lock()

    # Encryption

    def encrypt(self, message: Message, tenant_id: str) -> Message:
        """Return a copy of `message` with every pii field encrypted for `tenant_id` (the original is untouched)."""
        if not has_pii(message.DESCRIPTOR):
            return message
        if self.key_source is None:
            raise SerializationError(f"{message.DESCRIPTOR.full_name} has pii fields and no key source was configured")
        if not tenant_id:
            raise SerializationError(
                "Encrypting pii fields needs a tenant id (the message's tenant_id, or configure one)"
            )
        copy = type(message)()
        copy.CopyFrom(message)
        self._encrypt_in_place(copy, tenant_id)
        return copy

    def _data_key(self, tenant: str) -> tuple[AESGCM, bytes]:
        with self._lock:
            found = self._data_keys.get(tenant)
            if found is None:
                data_key = AESGCM.generate_key(bit_length=256)
                wrapped = self.key_source.wrap(data_key, _data_key_context(tenant, self.key_source.key_id))
                found = self._data_keys[tenant] = (AESGCM(data_key), wrapped)
            return found

    def _seal(self, plaintext: bytes, field: FieldDescriptor, tenant: str) -> bytes:
        aead, wrapped = self._data_key(tenant)
        nonce = secrets.token_bytes(NONCE_SIZE)
        ciphertext = aead.encrypt(nonce, plaintext, _field_context(field, tenant))
        return _encode_envelope(tenant, self.key_source.key_id, wrapped, nonce, ciphertext)

    def _encrypt_value(self, value, field: FieldDescriptor, tenant: str):
        if field.type == FieldDescriptor.TYPE_STRING:
            envelope = self._seal(value.encode(), field, tenant)
            return STRING_PREFIX + base64.urlsafe_b64encode(envelope).rstrip(b"=").decode()
        return self._seal(bytes(value), field, tenant)

    def _encrypt_in_place(self, message: Message, tenant: str) -> None:
        plan = plan_for(message.DESCRIPTOR)
        for field in plan.encrypted:
            if _is_message(field):
                self._seal_submessages(message, field, tenant)
            elif _is_repeated(field):
                values = [self._encrypt_value(value, field, tenant) for value in getattr(message, field.name)]
                del getattr(message, field.name)[:]
                getattr(message, field.name).extend(values)
            elif field.has_presence and not message.HasField(field.name):
                continue
            else:
                setattr(message, field.name, self._encrypt_value(getattr(message, field.name), field, tenant))
        for field in plan.nested:
            for child in _children(message, field):
                self._encrypt_in_place(child, tenant)

    def _seal_submessages(self, message: Message, field: FieldDescriptor, tenant: str) -> None:
        """Replace each submessage by an empty one holding the envelope of its bytes as an unknown field."""
        children = list(_children(message, field))
        sealed = [
            _protowire.length_delimited(
                field.number,
                _protowire.length_delimited(
                    ENVELOPE_FIELD_NUMBER, self._seal(child.SerializeToString(), field, tenant)
                ),
            )
            for child in children
        ]
        if not children:
            return
        message.ClearField(field.name)
        message.MergeFromString(b"".join(sealed))

    # Decryption

    def decrypt(self, message: Message, tenant_id: str | None = None) -> list[str]:
        """Decrypt the message's pii fields in place; return the full names of fields left encrypted.

        With `tenant_id`, only values encrypted for that tenant are opened (the serializers pass the message's own
        `tenant_id`, so personal data copied into another tenant's message stays sealed).
        """
        left: list[str] = []
        if has_pii(message.DESCRIPTOR):
            self._decrypt_in_place(message, left, tenant_id)
        return left

    def _open(self, envelope: bytes, field: FieldDescriptor, expected_tenant: str | None) -> bytes | None:
        if self.key_source is None:
            return None
        try:
            tenant, key_id, wrapped, nonce, ciphertext = _decode_envelope(envelope)
            if expected_tenant and tenant != expected_tenant:
                return None
            cache_key = (tenant, key_id, wrapped)
            aead = self._unwrapped.get(cache_key)
            if aead is None:
                aead = AESGCM(self.key_source.unwrap(wrapped, key_id, _data_key_context(tenant, key_id)))
                with self._lock:
                    self._unwrapped[cache_key] = aead
            return aead.decrypt(nonce, ciphertext, _field_context(field, tenant))
        except (KeyUnavailable, InvalidTag, ValueError, IndexError, UnicodeDecodeError):
            return None

    def _decrypt_value(self, value, field: FieldDescriptor, tenant: str | None):
        """Return the plaintext value, or None when it stays encrypted (or was never encrypted)."""
        if not is_encrypted(value):
            return None
        if field.type == FieldDescriptor.TYPE_STRING:
            encoded = value[len(STRING_PREFIX) :]
            try:
                envelope = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            except ValueError:
                return None
            plaintext = self._open(envelope, field, tenant)
            try:
                return None if plaintext is None else plaintext.decode()
            except UnicodeDecodeError:
                return None
        return self._open(bytes(value), field, tenant)

    def _decrypt_in_place(self, message: Message, left: list[str], tenant: str | None) -> None:
        plan = plan_for(message.DESCRIPTOR)
        for field in plan.encrypted:
            if _is_message(field):
                for child in _children(message, field):
                    self._open_submessage(child, field, left, tenant)
            elif _is_repeated(field):
                container = getattr(message, field.name)
                for index, value in enumerate(container):
                    plaintext = self._decrypt_value(value, field, tenant)
                    if plaintext is not None:
                        container[index] = plaintext
                    elif is_encrypted(value):
                        left.append(field.full_name)
            else:
                value = getattr(message, field.name)
                plaintext = self._decrypt_value(value, field, tenant)
                if plaintext is not None:
                    setattr(message, field.name, plaintext)
                elif is_encrypted(value):
                    left.append(field.full_name)
        for field in plan.nested:
            for child in _children(message, field):
                self._decrypt_in_place(child, left, tenant)

    def _open_submessage(self, child: Message, field: FieldDescriptor, left: list[str], tenant: str | None) -> None:
        envelope = next(
            (
                value
                for number, wire_type, value in _protowire.fields(child.SerializeToString())
                if number == ENVELOPE_FIELD_NUMBER and wire_type == _protowire.LENGTH_DELIMITED
            ),
            None,
        )
        if envelope is None:
            return
        plaintext = self._open(envelope, field, tenant)
        if plaintext is None:
            left.append(field.full_name)
            return
        child.Clear()
        child.MergeFromString(plaintext)


def _children(message: Message, field: FieldDescriptor) -> list[Message]:
    """Return the submessages a message field holds: all elements when repeated, the one when set, else none."""
    if _is_repeated(field):
        if field.message_type.GetOptions().map_entry:
            return []
        return list(getattr(message, field.name))
    return [getattr(message, field.name)] if message.HasField(field.name) else []
