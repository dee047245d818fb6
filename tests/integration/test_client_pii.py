"""Fields marked `(registry.v1.pii) = true` are encrypted by the serializer; only a key holder reads them back."""

import pytest

from registry_client import RegistryClient
from registry_client.kafka import MessageField, ProtobufDeserializer, ProtobufSerializer, SerializationContext
from registry_client.pii import STRING_PREFIX, FieldEncryptor, LocalKeyFile
from registry_client.wire import read_frame

pytestmark = pytest.mark.django_db(transaction=True)

USERS = "common/user.proto"
CONTEXT = SerializationContext("users", MessageField.VALUE)


@pytest.fixture
def client(server, writer):
    with RegistryClient({"url": server.url, "basic.auth.user.info": "writer:writer-password"}) as opened:
        yield opened


@pytest.fixture
def key_file(tmp_path):
    return LocalKeyFile.create(tmp_path / "kek-2026.hex")


def ada(catalogue):
    module = catalogue.module(USERS)
    user = module.User(
        user_id="u-1", tenant_id="acme", email="ada@example.org", display_name="Ada", locale="en-GB", mfa_enabled=True
    )
    user.postal_address.address_lines.extend(["12 Analytical Row", "Flat 3"])
    user.postal_address.locality = "London"
    user.date_of_birth.year, user.date_of_birth.month, user.date_of_birth.day = 1815, 12, 10
    user.roles.append(module.USER_ROLE_TRADER)
    return user


def serialize(client, user, key_source) -> bytes:
    return ProtobufSerializer(type(user), client, {"pii.encryptor": FieldEncryptor(key_source)})(user, CONTEXT)


def test_personal_data_is_not_readable_in_the_bytes(catalogue, client, key_file):
    data = serialize(client, ada(catalogue), key_file)
    for secret in (b"ada@example.org", b"Ada", b"Analytical", b"London", (1815).to_bytes(2, "little")):
        assert secret not in data
    assert b"en-GB" in data and b"u-1" in data


def test_an_authorised_consumer_gets_every_field_back(catalogue, client, key_file):
    user = ada(catalogue)
    deserializer = ProtobufDeserializer(type(user), {"pii.encryptor": FieldEncryptor(key_file)}, client)
    assert deserializer(serialize(client, user, key_file), CONTEXT) == user
    assert deserializer.left_encrypted == []


def test_a_consumer_without_the_key_reads_the_rest_and_sees_the_fields_encrypted(catalogue, client, key_file, tmp_path):
    user = ada(catalogue)
    data = serialize(client, user, key_file)
    for encryptor in (None, FieldEncryptor(None), FieldEncryptor(LocalKeyFile.create(tmp_path / "kek-2026b.hex"))):
        deserializer = ProtobufDeserializer(type(user), {"pii.encryptor": encryptor}, client)
        decoded = deserializer(data, CONTEXT)
        assert (decoded.user_id, decoded.tenant_id, decoded.locale, decoded.mfa_enabled) == (
            "u-1",
            "acme",
            "en-GB",
            True,
        )
        assert list(decoded.roles) == list(user.roles)
        assert decoded.email.startswith(STRING_PREFIX) and decoded.display_name.startswith(STRING_PREFIX)
        assert decoded.date_of_birth.year == 0 and decoded.HasField("date_of_birth")
        if encryptor is not None:
            assert {"common.v1.User.email", "common.v1.User.date_of_birth"} <= set(deserializer.left_encrypted)


def test_a_key_file_with_the_same_key_under_another_id_does_not_decrypt(catalogue, client, key_file, tmp_path):
    copy = tmp_path / "renamed.hex"
    copy.write_text((tmp_path / "kek-2026.hex").read_text())
    user = ada(catalogue)
    deserializer = ProtobufDeserializer(type(user), {"pii.encryptor": FieldEncryptor(LocalKeyFile(copy))}, client)
    assert deserializer(serialize(client, user, key_file), CONTEXT).email.startswith(STRING_PREFIX)
    other = ProtobufDeserializer(type(user), {"pii.encryptor": FieldEncryptor(LocalKeyFile(copy, "kek-2026"))}, client)
    assert other(serialize(client, user, key_file), CONTEXT) == user


def test_the_serializer_leaves_the_callers_message_untouched_and_the_frame_unchanged(catalogue, client, key_file):
    user = ada(catalogue)
    data = serialize(client, user, key_file)
    assert user.email == "ada@example.org"
    assert read_frame(data).message_indexes == (1,)


def test_a_ciphertext_moved_into_another_field_does_not_decrypt(catalogue, client, key_file):
    user = ada(catalogue)
    encryptor = FieldEncryptor(key_file)
    encrypted = encryptor.encrypt(user, "acme")
    encrypted.display_name = encrypted.email
    assert "common.v1.User.display_name" in encryptor.decrypt(encrypted)
    assert encrypted.email == "ada@example.org" and encrypted.display_name.startswith(STRING_PREFIX)
