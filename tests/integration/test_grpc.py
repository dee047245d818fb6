"""gRPC: the catalogue's example services stream ticks and take orders, and the registry answers lookups over gRPC.

The client side uses the catalogue's stubs generated at test time; the example server is started as its own
process, exactly as a user runs it; the registry's gRPC server runs in this process on the test database.
"""

import base64
import os
import subprocess
import sys
from pathlib import Path

import grpc
import pytest

from registry_client import RegistryClient, Schema
from schemas_app.grpc_api import build_server
from tests.conftest_users import api_token
from tests.integration.api.helpers import TICK_V1, TICK_V2_ADDS_FIELD, TICK_V2_CHANGES_TYPE

REPOSITORY = Path(__file__).resolve().parents[2]
MARKET_DATA = "trading/market_data.proto"
ORDERS = "trading/orders.proto"
REGISTRY_SERVICE = "schemaregistry/registry_service.proto"
WRITER_BASIC = (("authorization", "Basic " + base64.b64encode(b"writer:writer-password").decode()),)


@pytest.fixture(scope="module")
def example_address():
    """Start examples/trading_services.py on a free port and return its address; stop it afterwards."""
    process = subprocess.Popen(
        [sys.executable, str(REPOSITORY / "examples" / "trading_services.py"), "--port", "0", "--tick-interval", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("listening on "), process.stderr.read()
        yield line.removeprefix("listening on ").strip()
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def example_channel(example_address):
    with grpc.insecure_channel(example_address) as channel:
        grpc.channel_ready_future(channel).result(timeout=10)
        yield channel


def test_the_market_data_example_streams_ticks_of_the_requested_symbols(catalogue, example_channel):
    md, stubs = catalogue.module(MARKET_DATA), catalogue.grpc_module(MARKET_DATA)
    stream = stubs.MarketDataServiceStub(example_channel).StreamMarketData(
        md.StreamMarketDataRequest(
            tenant_id="acme", symbols=["EURUSD", "GBPUSD"], channels=[md.MARKET_DATA_CHANNEL_TICKS]
        )
    )
    updates = [next(stream) for _ in range(5)]
    stream.cancel()
    assert [update.ticks.sequence_number for update in updates] == [1, 2, 3, 4, 5]
    assert {tick.symbol for update in updates for tick in update.ticks.ticks} == {"EURUSD", "GBPUSD"}
    assert all(tick.tenant_id == "acme" and tick.ask > tick.bid for update in updates for tick in update.ticks.ticks)


def test_the_order_entry_example_places_an_order_and_streams_its_reports(catalogue, example_channel):
    orders, stubs = catalogue.module(ORDERS), catalogue.grpc_module(ORDERS)
    service = stubs.OrderServiceStub(example_channel)
    reports = service.StreamExecutionReports(orders.StreamExecutionReportsRequest(tenant_id="acme", account_id="acc-1"))
    request = orders.PlaceOrderRequest(
        tenant_id="acme",
        client_order_id="c-1",
        account_id="acc-1",
        symbol="AAPL",
        side=orders.ORDER_SIDE_BUY,
        quantity=10,
    )
    placed = service.PlaceOrder(request).order
    assert placed.status == orders.ORDER_STATUS_PENDING_NEW and placed.remaining_quantity == 10
    assert service.GetOrder(orders.GetOrderRequest(tenant_id="acme", order_id=placed.order_id)).order == placed
    service.CancelOrder(orders.CancelOrderRequest(tenant_id="acme", order_id=placed.order_id))
    first, second = next(reports).execution_report, next(reports).execution_report
    reports.cancel()
    assert (first.execution_type, second.execution_type) == (
        orders.EXECUTION_TYPE_NEW,
        orders.EXECUTION_TYPE_PENDING_CANCEL,
    )
    assert (first.sequence_number, second.sequence_number) == (1, 2)
    with pytest.raises(grpc.RpcError) as raised:
        service.GetOrder(orders.GetOrderRequest(tenant_id="globex", order_id=placed.order_id))
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.fixture
def registry_stub(catalogue):
    """A stub of the registry's gRPC API, served in this process on the test database."""
    server, port = build_server("127.0.0.1:0", max_workers=4, keep_connections=False)
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield catalogue.grpc_module(REGISTRY_SERVICE).SchemaRegistryStub(channel)
    finally:
        server.stop(grace=None).wait()


@pytest.fixture
def registered(server, writer):
    """Register TICK_V1 under ticks-value over REST; return the REST client and the schema id."""
    with RegistryClient({"url": server.url, "basic.auth.user.info": "writer:writer-password"}) as client:
        yield client, client.register_schema("ticks-value", Schema(TICK_V1))


pytestmark = pytest.mark.django_db(transaction=True)


def test_get_schema_by_id_answers_what_rest_answers(catalogue, registry_stub, registered):
    client, schema_id = registered
    messages = catalogue.module(REGISTRY_SERVICE)
    answer = registry_stub.GetSchemaById(messages.GetSchemaByIdRequest(id=schema_id), metadata=WRITER_BASIC)
    rest = client.get_schema(schema_id)
    assert (answer.id, answer.schema_type, answer.schema) == (schema_id, rest.schema_type, rest.schema_str)
    assert list(answer.references) == []


def test_get_latest_version_answers_what_rest_answers_with_a_bearer_token(catalogue, registry_stub, registered, writer):
    client, schema_id = registered
    messages = catalogue.module(REGISTRY_SERVICE)
    token = (("authorization", f"Bearer {api_token(writer)}"),)
    answer = registry_stub.GetLatestVersion(messages.GetLatestVersionRequest(subject="ticks-value"), metadata=token)
    rest = client.get_latest_version("ticks-value")
    assert (answer.subject, answer.version, answer.id, answer.schema) == (
        rest.subject,
        rest.version,
        rest.schema_id,
        rest.schema.schema_str,
    )
    assert (answer.semantic_version, answer.state) == ("1.0.0", "active")


def test_check_compatibility_accepts_an_added_field_and_refuses_a_changed_type(catalogue, registry_stub, registered):
    messages = catalogue.module(REGISTRY_SERVICE)
    added = registry_stub.CheckCompatibility(
        messages.CheckCompatibilityRequest(subject="ticks-value", schema=TICK_V2_ADDS_FIELD), metadata=WRITER_BASIC
    )
    changed = registry_stub.CheckCompatibility(
        messages.CheckCompatibilityRequest(subject="ticks-value", schema=TICK_V2_CHANGES_TYPE), metadata=WRITER_BASIC
    )
    assert added.is_compatible and list(added.messages) == []
    assert not changed.is_compatible
    assert any(
        'with name "bid" on message "TickData" changed type from "double" to "float"' in line
        for line in changed.messages
    )


@pytest.mark.parametrize(
    "metadata",
    [
        (),
        (("authorization", "Basic " + base64.b64encode(b"writer:wrong").decode()),),
        (("authorization", "Bearer nope"),),
    ],
    ids=["without credentials", "with a wrong password", "with an unknown token"],
)
def test_lookups_are_refused_without_valid_credentials(catalogue, registry_stub, registered, metadata):
    _, schema_id = registered
    with pytest.raises(grpc.RpcError) as raised:
        registry_stub.GetSchemaById(
            catalogue.module(REGISTRY_SERVICE).GetSchemaByIdRequest(id=schema_id), metadata=metadata
        )
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_an_unknown_id_is_not_found_with_confluents_error_code(catalogue, registry_stub, registered):
    with pytest.raises(grpc.RpcError) as raised:
        registry_stub.GetSchemaById(
            catalogue.module(REGISTRY_SERVICE).GetSchemaByIdRequest(id=2**31 - 1), metadata=WRITER_BASIC
        )
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    assert ("error-code", "40403") in raised.value.trailing_metadata()


def test_an_unknown_subject_is_not_found(catalogue, registry_stub, registered):
    with pytest.raises(grpc.RpcError) as raised:
        registry_stub.GetLatestVersion(
            catalogue.module(REGISTRY_SERVICE).GetLatestVersionRequest(subject="nope-value"), metadata=WRITER_BASIC
        )
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    assert ("error-code", "40401") in raised.value.trailing_metadata()


def test_manage_py_grpcserver_serves_the_registry_and_refuses_a_caller_without_credentials(catalogue):
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "grpcserver", "--address", "127.0.0.1:0", "--workers", "2"],
        cwd=REPOSITORY,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("Serving registry.v1.SchemaRegistry on 127.0.0.1:"), process.stderr.read()
        with grpc.insecure_channel(line.rsplit(" ", 1)[1].strip()) as channel:
            stub = catalogue.grpc_module(REGISTRY_SERVICE).SchemaRegistryStub(channel)
            with pytest.raises(grpc.RpcError) as raised:
                stub.GetSchemaById(catalogue.module(REGISTRY_SERVICE).GetSchemaByIdRequest(id=1), timeout=10)
        assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def alice_basic(django_user_model):
    """acme's service account, bound to acme, signing in with a password."""
    from schemas_app.models import Tenant, TenantBinding

    user = django_user_model.objects.create_user("alice", password="alice-password")
    acme, _ = Tenant.objects.get_or_create(slug="acme", defaults={"name": "Acme"})
    TenantBinding.objects.create(user=user, tenant=acme)
    return (("authorization", "Basic " + base64.b64encode(b"alice:alice-password").decode()),)


@pytest.fixture
def two_tenants(owner):
    """ticks-value in acme and in globex (with an extra field); return globex's schema id."""
    from rest_framework.test import APIClient

    from schemas_app.models import Tenant
    from tests.integration.api.helpers import register

    for slug in ("acme", "globex"):
        Tenant.objects.get_or_create(slug=slug, defaults={"name": slug.title()})
    admin = APIClient()
    admin.force_authenticate(owner)
    assert register(admin, ":.acme:ticks-value", TICK_V1).status_code == 200
    response = register(admin, ":.globex:ticks-value", TICK_V2_ADDS_FIELD)
    assert response.status_code == 200, response.json()
    return response.json()["id"]


def test_a_bound_account_reads_its_own_tenant_and_nothing_of_another(
    catalogue, registry_stub, alice_basic, two_tenants
):
    messages = catalogue.module(REGISTRY_SERVICE)
    own = registry_stub.GetLatestVersion(messages.GetLatestVersionRequest(subject="ticks-value"), metadata=alice_basic)
    assert own.schema == TICK_V1
    for call, request, code in (
        (registry_stub.GetSchemaById, messages.GetSchemaByIdRequest(id=two_tenants), "40403"),
        (registry_stub.GetLatestVersion, messages.GetLatestVersionRequest(subject=":.globex:ticks-value"), "40401"),
    ):
        with pytest.raises(grpc.RpcError) as raised:
            call(request, metadata=alice_basic)
        assert raised.value.code() == grpc.StatusCode.NOT_FOUND
        assert ("error-code", code) in raised.value.trailing_metadata()


def test_a_context_qualified_subject_addresses_that_tenant(catalogue, registry_stub, two_tenants):
    messages = catalogue.module(REGISTRY_SERVICE)
    owner_basic = (("authorization", "Basic " + base64.b64encode(b"owner:owner-password").decode()),)
    globex = registry_stub.GetLatestVersion(
        messages.GetLatestVersionRequest(subject=":.globex:ticks-value"), metadata=owner_basic
    )
    assert (globex.subject, globex.id, globex.schema) == ("ticks-value", two_tenants, TICK_V2_ADDS_FIELD)


def test_repeated_failed_sign_ins_from_one_address_are_limited(catalogue, registry_stub, registered, settings):
    settings.REGISTRY_AUTH_FAILURES_PER_ADDRESS = 3
    wrong = (("authorization", "Basic " + base64.b64encode(b"writer:wrong").decode()),)
    request = catalogue.module(REGISTRY_SERVICE).GetSchemaByIdRequest(id=registered[1])
    codes = []
    for _ in range(5):
        with pytest.raises(grpc.RpcError) as raised:
            registry_stub.GetSchemaById(request, metadata=wrong)
        codes.append(raised.value.code())
    assert codes[0] == grpc.StatusCode.UNAUTHENTICATED
    assert codes[-1] == grpc.StatusCode.RESOURCE_EXHAUSTED


@pytest.mark.parametrize(
    ("peer", "address"),
    [("ipv4:127.0.0.1:50123", "127.0.0.1"), ("ipv6:[::1]:50123", "::1"), ("unix:/tmp/socket", "unix:/tmp/socket")],
)
def test_the_peer_address_is_what_failed_sign_ins_are_counted_by(peer, address):
    from schemas_app.grpc_api import peer_address

    assert peer_address(peer) == address
