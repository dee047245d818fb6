"""pii encryption of every field kind, on messages built in a private pool without the options' generated module."""

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from registry_client import SerializationError
from registry_client.pii import (
    ENVELOPE_MAGIC,
    STRING_PREFIX,
    FieldEncryptor,
    LocalKeyFile,
    _decode_envelope,
    _encode_envelope,
    is_pii,
)

FIELD = descriptor_pb2.FieldDescriptorProto
PII_OPTION = b"\x88\xb5\x18\x01"  # field 50001 (registry.v1.pii), varint 1: how the option is serialized


def pii_field(message, name: str, number: int, kind: int, *, repeated: bool = False, type_name: str = ""):
    field = message.field.add(name=name, number=number, type=kind)
    if type_name:
        field.type_name = type_name
    field.label = FIELD.LABEL_REPEATED if repeated else FIELD.LABEL_OPTIONAL
    field.options.MergeFromString(PII_OPTION)
    return field


def classes(with_scalar_pii: bool = False) -> dict:
    """Build Card { name (pii), photo (pii bytes), aliases (pii repeated), address (pii message), home (Address) }."""
    file = descriptor_pb2.FileDescriptorProto(name="pii_test.proto", package="pii.test", syntax="proto3")
    address = file.message_type.add(name="Address")
    pii_field(address, "street", 1, FIELD.TYPE_STRING)
    address.field.add(name="country", number=2, type=FIELD.TYPE_STRING, label=FIELD.LABEL_OPTIONAL)
    card = file.message_type.add(name="Card")
    card.field.add(name="tenant_id", number=1, type=FIELD.TYPE_STRING, label=FIELD.LABEL_OPTIONAL)
    pii_field(card, "name", 2, FIELD.TYPE_STRING)
    pii_field(card, "photo", 3, FIELD.TYPE_BYTES)
    pii_field(card, "aliases", 4, FIELD.TYPE_STRING, repeated=True)
    pii_field(card, "address", 5, FIELD.TYPE_MESSAGE, type_name=".pii.test.Address")
    card.field.add(
        name="home", number=6, type=FIELD.TYPE_MESSAGE, type_name=".pii.test.Address", label=FIELD.LABEL_OPTIONAL
    )
    if with_scalar_pii:
        pii_field(card, "age", 7, FIELD.TYPE_INT32)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"pii.test.{name}"))
        for name in ("Card", "Address")
    }


@pytest.fixture
def keys(tmp_path):
    return LocalKeyFile.create(tmp_path / "kek.hex")


def card(types):
    message = types["Card"](tenant_id="acme", name="Ada", photo=b"\x89PNG", aliases=["A.", "Countess"])
    message.address.street, message.address.country = "12 Analytical Row", "GB"
    message.home.street, message.home.country = "1 Engine Lane", "GB"
    return message


def test_the_option_is_found_in_the_serialized_field_options():
    descriptor = classes()["Card"].DESCRIPTOR
    assert [field.name for field in descriptor.fields if is_pii(field)] == ["name", "photo", "aliases", "address"]


def test_every_kind_of_pii_field_is_encrypted_and_comes_back(keys):
    types = classes()
    original = card(types)
    encryptor = FieldEncryptor(keys)
    encrypted = encryptor.encrypt(original, "acme")
    assert encrypted.name.startswith(STRING_PREFIX) and encrypted.photo.startswith(ENVELOPE_MAGIC)
    assert all(alias.startswith(STRING_PREFIX) for alias in encrypted.aliases)
    assert encrypted.address.street == "" and encrypted.address.country == ""  # the whole submessage is sealed
    assert encrypted.home.street.startswith(STRING_PREFIX) and encrypted.home.country == "GB"  # pii leaves only
    data = encrypted.SerializeToString()
    for secret in (b"Ada", b"PNG", b"Countess", b"Analytical", b"Engine"):
        assert secret not in data
    parsed = types["Card"].FromString(data)
    assert encryptor.decrypt(parsed) == []
    assert parsed == original


def test_unset_and_empty_fields_stay_unset(keys):
    types = classes()
    encrypted = FieldEncryptor(keys).encrypt(types["Card"](tenant_id="acme"), "acme")
    assert not encrypted.HasField("address") and not encrypted.HasField("home") and list(encrypted.aliases) == []


def test_a_reader_without_keys_lists_what_it_could_not_read(keys):
    types = classes()
    parsed = types["Card"].FromString(FieldEncryptor(keys).encrypt(card(types), "acme").SerializeToString())
    left = FieldEncryptor(None).decrypt(parsed)
    assert set(left) == {
        "pii.test.Card.name",
        "pii.test.Card.photo",
        "pii.test.Card.aliases",
        "pii.test.Card.address",
        "pii.test.Address.street",
    }
    assert parsed.tenant_id == "acme" and parsed.home.country == "GB"


def test_an_envelope_relabelled_with_another_tenant_does_not_open(keys):
    types = classes()
    encryptor = FieldEncryptor(keys)
    globex = encryptor.encrypt(card(types), "globex")
    tenant, key_id, wrapped, nonce, ciphertext = _decode_envelope(globex.photo)
    assert tenant == "globex"
    forged = types["Card"]()
    forged.CopyFrom(globex)
    forged.photo = _encode_envelope("acme", key_id, wrapped, nonce, ciphertext)
    assert encryptor.decrypt(forged) == ["pii.test.Card.photo"]
    assert forged.photo.startswith(ENVELOPE_MAGIC)


def test_a_pii_mark_on_a_number_is_refused_when_the_type_is_first_used(keys):
    with pytest.raises(SerializationError, match="pii.test.Card.age is marked pii but is a scalar"):
        FieldEncryptor(keys).encrypt(classes(with_scalar_pii=True)["Card"](tenant_id="acme"), "acme")


def test_encrypting_without_a_key_source_or_a_tenant_is_a_clear_error(keys):
    types = classes()
    with pytest.raises(SerializationError, match="no key source"):
        FieldEncryptor(None).encrypt(card(types), "acme")
    with pytest.raises(SerializationError, match="needs a tenant id"):
        FieldEncryptor(keys).encrypt(card(types), "")


def test_a_reader_naming_a_tenant_opens_only_that_tenants_values(keys):
    types = classes()
    encryptor = FieldEncryptor(keys)
    parsed = types["Card"].FromString(encryptor.encrypt(card(types), "globex").SerializeToString())
    assert "pii.test.Card.name" in encryptor.decrypt(parsed, "acme")
    assert encryptor.decrypt(parsed, "globex") == []
