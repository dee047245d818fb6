"""NATS end to end: TickData for two tenants through the real JetStream server and the live registry.

Every test gets its own stream and subjects (named with the process id and a uuid), deleted afterwards,
because other test runs share the server.
"""

import asyncio
import os
import uuid
from concurrent.futures import ThreadPoolExecutor

import nats
import pytest

from registry_client import MessageRefused, RegistryClient
from registry_client.nats import (
    MESSAGE_TYPE_HEADER,
    REFUSED_REASON_HEADER,
    SCHEMA_ID_HEADER,
    TENANT_HEADER,
    NatsConsumer,
    NatsProducer,
)

pytestmark = pytest.mark.django_db(transaction=True)

NATS_URL = os.environ.get("NATS_URL", "nats://127.0.0.1:4222")
MARKET_DATA = "trading/market_data.proto"


@pytest.fixture
def client(server, writer):
    with RegistryClient({"url": server.url, "basic.auth.user.info": "writer:writer-password"}) as opened:
        yield opened


@pytest.fixture
def names():
    """A stream name and subject prefix no other run uses."""
    unique = f"{os.getpid()}_{uuid.uuid4().hex[:10]}"
    return {"stream": f"TRANSPORTS_{unique}", "prefix": f"transports{unique}"}


def run(scenario, names):
    """Run an async scenario with a JetStream context on a fresh stream, deleting the stream afterwards."""

    async def wrapper():
        connection = await nats.connect(NATS_URL)
        js = connection.jetstream()
        await js.add_stream(name=names["stream"], subjects=[f"{names['prefix']}.>"])
        try:
            return await scenario(js, names["prefix"])
        finally:
            await js.delete_stream(names["stream"])
            await connection.close()

    # A thread of its own: an earlier test (Playwright's sync API) may leave an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(asyncio.wait_for(wrapper(), timeout=60))).result()


def tick(catalogue, tenant: str, symbol: str = "EURUSD"):
    return catalogue.message(MARKET_DATA, "TickData")(
        symbol=symbol, bid=1.0841, ask=1.0843, volume=1e6, timestamp_ms=1_767_225_600_000, tenant_id=tenant
    )


async def fetch_one(subscription):
    (message,) = await subscription.fetch(1, timeout=5)
    return message


async def refused_then_redelivered(consumer, subscription) -> MessageRefused:
    """Receive a message the consumer must refuse, check that it comes again, and terminate it; return the refusal."""
    with pytest.raises(MessageRefused) as refused:
        await consumer.receive(await fetch_one(subscription))
    again = await fetch_one(subscription)
    assert again.metadata.num_delivered == 2
    await again.term()
    return refused.value


def test_ticks_of_two_tenants_reach_their_own_consumers(catalogue, client, names):
    tick_type = catalogue.message(MARKET_DATA, "TickData")

    async def scenario(js, prefix):
        producer = NatsProducer(js, client)
        for tenant in ("acme", "globex"):
            for symbol in ("EURUSD", "GBPUSD"):
                await producer.publish(f"{prefix}.ticks.{tenant}", tick(catalogue, tenant, symbol))
        received = {}
        for tenant in ("acme", "globex"):
            consumer = NatsConsumer(client, [tick_type], {"tenant.id": tenant})
            subscription = await js.pull_subscribe(f"{prefix}.ticks.{tenant}", durable=f"ticks_{tenant}")
            messages = await subscription.fetch(2, timeout=5)
            received[tenant] = [await consumer.receive(message) for message in messages]
            for message in messages:
                await message.ack()
            headers = messages[0].headers
        return received, headers

    received, headers = run(scenario, names)
    assert received == {
        tenant: [tick(catalogue, tenant, "EURUSD"), tick(catalogue, tenant, "GBPUSD")] for tenant in ("acme", "globex")
    }
    assert headers["Content-Type"] == "application/x-protobuf"
    assert headers[MESSAGE_TYPE_HEADER] == "trading.v1.TickData" and headers[TENANT_HEADER] == "globex"
    assert int(headers[SCHEMA_ID_HEADER]) == client.get_latest_version("trading.v1.TickData").schema_id


def test_the_payload_is_the_plain_protobuf_message(catalogue, client, names):
    async def scenario(js, prefix):
        await NatsProducer(js, client).publish(f"{prefix}.ticks", tick(catalogue, "acme"))
        subscription = await js.pull_subscribe(f"{prefix}.ticks", durable="plain")
        message = await fetch_one(subscription)
        await message.ack()
        return message.data

    assert run(scenario, names) == tick(catalogue, "acme").SerializeToString()


def test_a_message_of_another_tenant_is_refused_and_delivered_again(catalogue, client, names):
    consumer = NatsConsumer(
        client, [catalogue.message(MARKET_DATA, "TickData")], {"tenant.id": "acme", "redelivery.delay.sec": 0.05}
    )

    async def scenario(js, prefix):
        await NatsProducer(js, client).publish(f"{prefix}.ticks.acme", tick(catalogue, "globex"))
        subscription = await js.pull_subscribe(f"{prefix}.ticks.acme", durable="acme")
        with pytest.raises(MessageRefused) as refused:
            await consumer.receive(await fetch_one(subscription))
        again = await fetch_one(subscription)
        await again.term()
        return refused.value, again.metadata.num_delivered

    refused, deliveries = run(scenario, names)
    assert refused.action == "redelivered" and "tenant 'globex'" in refused.reason
    assert deliveries == 2


def test_a_body_naming_another_tenant_than_its_header_is_refused(catalogue, client, names):
    consumer = NatsConsumer(
        client, [catalogue.message(MARKET_DATA, "TickData")], {"tenant.id": "acme", "redelivery.delay.sec": 0.05}
    )

    async def scenario(js, prefix):
        await NatsProducer(js, client).publish(f"{prefix}.ticks", tick(catalogue, "globex"), tenant_id="acme")
        subscription = await js.pull_subscribe(f"{prefix}.ticks", durable="body")
        return await refused_then_redelivered(consumer, subscription)

    assert "message body names tenant 'globex'" in run(scenario, names).reason


def test_an_unknown_schema_id_is_dead_lettered_with_its_reason_and_nothing_is_lost(catalogue, client, names):
    tick_type = catalogue.message(MARKET_DATA, "TickData")

    async def scenario(js, prefix):
        consumer = NatsConsumer(
            client,
            [tick_type],
            {"on.refusal": "dead-letter", "dead.letter.subject": f"{prefix}.dead", "dead.letter.publisher": js},
        )
        producer = NatsProducer(js, client)
        headers = producer.headers(f"{prefix}.ticks", tick(catalogue, "acme"))
        headers[SCHEMA_ID_HEADER] = str(2**31 - 1)
        await js.publish(f"{prefix}.ticks", tick(catalogue, "acme").SerializeToString(), headers=headers)
        await producer.publish(f"{prefix}.ticks", tick(catalogue, "acme", "GBPUSD"))
        subscription = await js.pull_subscribe(f"{prefix}.ticks", durable="ticks")
        with pytest.raises(MessageRefused) as refused:
            await consumer.receive(await fetch_one(subscription))
        good = await fetch_one(subscription)
        decoded = await consumer.receive(good)
        await good.ack()
        dead = await fetch_one(await js.pull_subscribe(f"{prefix}.dead", durable="dead"))
        await dead.ack()
        info = await js.consumer_info(names["stream"], "ticks")
        return refused.value, decoded, dead, info.num_pending + info.num_ack_pending

    refused, decoded, dead, outstanding = run(scenario, names)
    assert refused.action == "dead-lettered" and "unknown to the registry" in refused.reason
    assert decoded.symbol == "GBPUSD"
    assert dead.data == tick(catalogue, "acme").SerializeToString()
    assert "unknown to the registry" in dead.headers[REFUSED_REASON_HEADER]
    assert outstanding == 0


def test_a_message_type_the_consumer_does_not_read_is_refused(catalogue, client, names):
    trade = catalogue.message(MARKET_DATA, "Trade")(symbol="AAPL", tenant_id="acme")
    consumer = NatsConsumer(client, [catalogue.message(MARKET_DATA, "TickData")], {"redelivery.delay.sec": 0.05})

    async def scenario(js, prefix):
        await NatsProducer(js, client).publish(f"{prefix}.trades", trade)
        subscription = await js.pull_subscribe(f"{prefix}.trades", durable="trades")
        return await refused_then_redelivered(consumer, subscription)

    assert "no message class for Message-Type 'trading.v1.Trade'" in run(scenario, names).reason


def disable_versions_of(subject: str) -> None:
    """Mark a subject's versions disabled, from a worker thread whose database connection is closed after."""
    from django.db import connection

    from schemas_app.models import SubjectVersion

    try:
        SubjectVersion.objects.filter(subject__name=subject).update(state=SubjectVersion.State.DISABLED)
    finally:
        connection.close()


def test_a_disabled_schema_is_refused(catalogue, client, names):
    tick_type = catalogue.message(MARKET_DATA, "TickData")
    consumer = NatsConsumer(client, [tick_type], {"redelivery.delay.sec": 0.05})

    async def scenario(js, prefix):
        await NatsProducer(js, client).publish(f"{prefix}.ticks", tick(catalogue, "acme"))
        await asyncio.to_thread(disable_versions_of, "trading.v1.TickData")
        subscription = await js.pull_subscribe(f"{prefix}.ticks", durable="ticks")
        return await refused_then_redelivered(consumer, subscription)

    # The registry no longer serves a disabled (retired) version: it answers 40402 saying so.
    assert "Version 1 of subject 'trading.v1.TickData' was retired" in run(scenario, names).reason


def test_personal_data_travels_encrypted_and_only_a_key_holder_reads_it(catalogue, client, names, tmp_path):
    from registry_client.pii import STRING_PREFIX, FieldEncryptor, LocalKeyFile

    user_type = catalogue.message("common/user.proto", "User")
    keys = LocalKeyFile.create(tmp_path / "kek.hex")
    user = user_type(user_id="u-1", tenant_id="acme", email="ada@example.org", locale="en-GB")

    async def scenario(js, prefix):
        await NatsProducer(js, client, {"pii.encryptor": FieldEncryptor(keys)}).publish(f"{prefix}.users", user)
        subscription = await js.pull_subscribe(f"{prefix}.users", durable="users")
        message = await fetch_one(subscription)
        await message.ack()
        with_key = NatsConsumer(client, [user_type], {"tenant.id": "acme", "pii.encryptor": FieldEncryptor(keys)})
        without_key = NatsConsumer(client, [user_type], {"tenant.id": "acme"})
        return message.data, await with_key.receive(message), await without_key.receive(message)

    data, decoded, sealed = run(scenario, names)
    assert b"ada@example.org" not in data
    assert decoded == user
    assert sealed.email.startswith(STRING_PREFIX) and sealed.locale == "en-GB"


def test_a_schema_of_another_registry_tenant_is_refused_as_unknown(
    catalogue, client, names, server, second_tenant_writer
):
    tick_type = catalogue.message(MARKET_DATA, "TickData")
    with RegistryClient({"url": server.url, "basic.auth.user.info": "second-writer:second-password"}) as second:

        async def scenario(js, prefix):
            # The second desk registers TickData in its own tenant; the default tenant's consumer cannot see that id.
            await NatsProducer(js, second).publish(f"{prefix}.ticks", tick(catalogue, "acme"))
            subscription = await js.pull_subscribe(f"{prefix}.ticks", durable="ticks")
            message = await fetch_one(subscription)
            own = await NatsConsumer(second, [tick_type]).receive(message)
            other = NatsConsumer(client, [tick_type], {"redelivery.delay.sec": 0.05})
            with pytest.raises(MessageRefused) as refused:
                await other.receive(message)
            await (await fetch_one(subscription)).term()
            return own, refused.value

        own, refused = run(scenario, names)
    assert own == tick(catalogue, "acme")
    assert "unknown to the registry" in refused.reason
