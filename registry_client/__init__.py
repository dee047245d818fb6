"""A client of the schema registry for services: lookups, Kafka and NATS serializers, pii field encryption.

It imports no Django and nothing of the registry's server; `pip install "proto-schema-registry[client]"`.
"""

from registry_client.client import RegisteredSchema, RegistryClient, Schema, SchemaReference
from registry_client.errors import (
    ConfigurationError,
    MessageRefused,
    RegistryClientError,
    SchemaRegistryError,
    SerializationError,
)

__all__ = [
    "ConfigurationError",
    "MessageRefused",
    "RegisteredSchema",
    "RegistryClient",
    "RegistryClientError",
    "Schema",
    "SchemaReference",
    "SchemaRegistryError",
    "SerializationError",
]
