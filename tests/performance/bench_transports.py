"""Benchmark the transports: NATS latency, serializer overhead, gRPC overhead and the memory claim.

Run by hand from the repository root (NATS with JetStream on 127.0.0.1:4222):

    python tests/performance/bench_transports.py [--messages 10000] [--quick]

It migrates a throw-away SQLite registry in a temporary folder, serves it with gunicorn and
`manage.py grpcserver` on free loopback ports, generates the catalogue's modules, and measures:

- NATS: publish-to-consume latency of TickData through JetStream, one message in flight at a time, with the
  consumer's registry checks answered from the client's caches (p50, p99 over --messages);
- Kafka framing: registry_client.kafka's serializer and deserializer against raw SerializeToString and
  ParseFromString (the target: framing and a cached lookup cost no more than 2x raw);
- gRPC: the example OrderService.PlaceOrder and the registry's GetSchemaById over loopback gRPC, against calling
  the same servicer method in-process (the spec: under 5 ms of added latency), and the registry lookup over REST;
- memory: 100,000 TickData held as parsed protobuf messages against the same data as json.loads dicts, each in a
  fresh process, by tracemalloc and by resident set size (upb allocates its message memory with malloc, outside
  tracemalloc's view, so RSS is the honest figure; the spec claims "50% less than JSON objects").

Writes tests/performance/results/transports.json and transports.md. Only 127.0.0.1 is contacted.
"""

import argparse
import asyncio
import base64
import datetime
import gc
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.integration.protobuf_modules import imported_catalogue  # noqa: E402
from tests.performance.samples import to_message  # noqa: E402
from tests.performance.serialization import (  # noqa: E402
    TimingSettings,
    _one_core,
    machine_info,
    market_data_stream,
    order,
    tick_data,
    time_call,
)

RESULTS_DIR = Path(__file__).resolve().parent / "results"
NATS_URL = os.environ.get("NATS_URL", "nats://127.0.0.1:4222")
ADMIN = ("bench", "bench-password-not-secret")
MARKET_DATA, ORDERS, REGISTRY_SERVICE = (
    "trading/market_data.proto",
    "trading/orders.proto",
    "schemaregistry/registry_service.proto",
)
MEMORY_OBJECTS = 100_000
TARGETS = {"nats_p50_ms": 2.0, "framing_ratio": 2.0, "grpc_overhead_ms": 5.0, "memory_saving": 0.5}


class BenchFailed(SystemExit):
    def __init__(self, message: str):
        super().__init__(f"bench_transports: {message}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def percentiles(samples_ms: list[float]) -> dict:
    ordered = sorted(samples_ms)
    return {
        "count": len(ordered),
        "p50_ms": round(statistics.median(ordered), 3),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3),
        "max_ms": round(ordered[-1], 3),
    }


# ---------------------------------------------------------------- the registry


def start_registry(folder: Path) -> SimpleNamespace:
    """Migrate a SQLite registry in `folder`, serve it with gunicorn and grpcserver; return urls and processes."""
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "CELERY_BROKER_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="registry.settings",
        DATABASE_URL=f"sqlite:///{folder}/bench.sqlite3",
        REGISTRY_VAR_DIR=str(folder),
        DEBUG="false",
        SECRET_KEY="bench-secret-key-not-for-production",
        SECURE_SSL_REDIRECT="false",
        ALLOWED_HOSTS="127.0.0.1",
        LOG_LEVEL="WARNING",
        REGISTRY_ADMIN_USERNAME=ADMIN[0],
        REGISTRY_ADMIN_PASSWORD=ADMIN[1],
        PYTHONPATH=str(ROOT),
    )
    for arguments in (("migrate", "--noinput"), ("ensure_admin",)):
        done = subprocess.run(
            [sys.executable, "manage.py", *arguments], cwd=ROOT, env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise BenchFailed(f"manage.py {' '.join(arguments)} failed:\n{done.stdout}{done.stderr}")
    port = free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    http = subprocess.Popen(
        [
            str(gunicorn),
            "registry.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "1",
            "--threads",
            "4",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    grpc_server = subprocess.Popen(
        [sys.executable, "manage.py", "grpcserver", "--address", "127.0.0.1:0", "--workers", "4"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    grpc_address = grpc_server.stdout.readline().rsplit(" ", 1)[-1].strip()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or http.poll() is not None:
                raise BenchFailed("gunicorn did not start") from None
            time.sleep(0.2)
    return SimpleNamespace(url=url, grpc_address=grpc_address, processes=(http, grpc_server))


def stop(processes) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=20)


# ---------------------------------------------------------------- measurements


def framing(catalogue, client, settings: TimingSettings) -> list[dict]:
    """Time our serializer and deserializer against raw protobuf on three messages, pinned to one core."""
    rng = random.Random(7)
    stream_class = catalogue.message(MARKET_DATA, "MarketDataStream")
    samples = [
        ("TickData", to_message(catalogue.message(MARKET_DATA, "TickData"), tick_data(rng))),
        ("MarketDataStream (1 KB)", to_message(stream_class, market_data_stream(stream_class, rng))),
        ("Order", to_message(catalogue.message(ORDERS, "Order"), order())),
    ]
    with _one_core():
        return [_framing_row(label, message, client, settings) for label, message in samples]


def confluent_serdes(cls, client):
    """confluent-kafka's own serializer and deserializer on the same registry, for comparison."""
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer

    theirs = SchemaRegistryClient({"url": client.urls[0], "basic.auth.user.info": ":".join(ADMIN)})
    config = {"auto.register.schemas": True, "use.deprecated.format": False}
    return ProtobufSerializer(cls, theirs, config), ProtobufDeserializer(cls, {"use.deprecated.format": False}, theirs)


def _framing_row(label: str, message, client, settings: TimingSettings) -> dict:
    from registry_client.kafka import MessageField, ProtobufDeserializer, ProtobufSerializer, SerializationContext

    cls = type(message)
    context = SerializationContext("bench-" + cls.__name__.lower(), MessageField.VALUE)
    serializer, deserializer = ProtobufSerializer(cls, client), ProtobufDeserializer(cls, {}, client)
    framed, raw = serializer(message, context), message.SerializeToString()
    assert deserializer(framed, context) == message
    theirs_serializer, theirs_deserializer = confluent_serdes(cls, client)
    assert theirs_deserializer(framed, context) == message and theirs_serializer(message, context) == framed
    timings = {
        "raw_serialize": time_call(message.SerializeToString, settings),
        "serializer": time_call(lambda: serializer(message, context), settings),
        "confluent_serializer": time_call(lambda: theirs_serializer(message, context), settings),
        "raw_parse": time_call(lambda: cls.FromString(raw), settings),
        "deserializer": time_call(lambda: deserializer(framed, context), settings),
        "confluent_deserializer": time_call(lambda: theirs_deserializer(framed, context), settings),
    }
    return {
        "message": label,
        "bytes": len(raw),
        **{f"{name}_us": round(value.median_us, 3) for name, value in timings.items()},
        **{f"{name}_best_us": round(value.min_us, 3) for name, value in timings.items()},
        # Ratios of the best of the repeats (timeit's advice): the median moves with the machine's load.
        "serialize_ratio": round(timings["serializer"].min_us / timings["raw_serialize"].min_us, 2),
        "parse_ratio": round(timings["deserializer"].min_us / timings["raw_parse"].min_us, 2),
    }


async def nats_latency(catalogue, client, messages: int) -> dict:
    """Publish TickData one at a time and time each until the consumer has checked and decoded it."""
    import nats

    from registry_client.nats import NatsConsumer, NatsProducer

    tick_class = catalogue.message(MARKET_DATA, "TickData")
    unique = f"{os.getpid()}_{uuid.uuid4().hex[:8]}"
    stream, subject = f"BENCH_{unique}", f"bench{unique}.ticks.acme"
    connection = await nats.connect(NATS_URL)
    js = connection.jetstream()
    await js.add_stream(name=stream, subjects=[f"bench{unique}.>"])
    producer = NatsProducer(js, client)
    consumer = NatsConsumer(client, [tick_class], {"tenant.id": "acme"})
    arrived: asyncio.Queue = asyncio.Queue()

    async def on_message(msg):
        tick = await consumer.receive(msg)
        arrived.put_nowait((time.perf_counter(), tick.timestamp_ms))
        await msg.ack()

    subscription = await js.subscribe(subject, cb=on_message, manual_ack=True)
    rng = random.Random(3)
    samples_ms = []
    try:
        warm_up = 200
        for index in range(messages + warm_up):
            tick = to_message(tick_class, tick_data(rng, index, tenant_id="acme"))
            started = time.perf_counter()
            await producer.publish(subject, tick)
            finished, _ = await asyncio.wait_for(arrived.get(), timeout=10)
            if index >= warm_up:
                samples_ms.append((finished - started) * 1000)
    finally:
        await subscription.unsubscribe()
        await js.delete_stream(stream)
        await connection.close()
    return {
        "transport": "JetStream publish (awaiting PubAck) to push consumer, checked and decoded",
        **percentiles(samples_ms),
    }


def grpc_overhead(catalogue, registry, calls: int) -> dict:
    """PlaceOrder in-process against over loopback gRPC; the registry's GetSchemaById over gRPC and REST."""
    import grpc
    import httpx

    from examples.trading_services import build_server, servicers

    modules = SimpleNamespace(
        market_data=catalogue.module(MARKET_DATA),
        market_data_grpc=catalogue.grpc_module(MARKET_DATA),
        orders=catalogue.module(ORDERS),
        orders_grpc=catalogue.grpc_module(ORDERS),
    )
    orders = modules.orders
    request = orders.PlaceOrderRequest(
        tenant_id="acme",
        client_order_id="c-1",
        account_id="acc-1",
        symbol="AAPL",
        side=orders.ORDER_SIDE_BUY,
        quantity=5,
    )
    _, order_entry = servicers(modules)
    server, port = build_server(modules)

    def timed(call) -> list[float]:
        for _ in range(50):
            call()
        out = []
        for _ in range(calls):
            started = time.perf_counter()
            call()
            out.append((time.perf_counter() - started) * 1000)
        return out

    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = modules.orders_grpc.OrderServiceStub(channel)
            plain = percentiles(timed(lambda: order_entry.PlaceOrder(request, None)))
            remote = percentiles(timed(lambda: stub.PlaceOrder(request)))
    finally:
        server.stop(grace=None)

    registry_messages = catalogue.module(REGISTRY_SERVICE)
    metadata = (("authorization", "Basic " + base64.b64encode(":".join(ADMIN).encode()).decode()),)
    schema_id = registry.client.get_latest_version("bench-tickdata-value").schema_id
    with grpc.insecure_channel(registry.grpc_address) as channel, httpx.Client(auth=ADMIN) as http:
        stub = catalogue.grpc_module(REGISTRY_SERVICE).SchemaRegistryStub(channel)
        lookup = registry_messages.GetSchemaByIdRequest(id=schema_id)
        over_grpc = percentiles(timed(lambda: stub.GetSchemaById(lookup, metadata=metadata)))
        over_rest = percentiles(timed(lambda: http.get(f"{registry.url}/schemas/ids/{schema_id}").raise_for_status()))
    return {
        "place_order_in_process": plain,
        "place_order_over_grpc": remote,
        "added_p50_ms": round(remote["p50_ms"] - plain["p50_ms"], 3),
        "registry_get_schema_by_id_grpc": over_grpc,
        "registry_get_schema_by_id_rest": over_rest,
    }


def memory_probe(kind: str, measure: str) -> dict:
    """In this (fresh) process, hold MEMORY_OBJECTS ticks as `kind` and report what they cost by `measure`.

    tracemalloc and RSS are measured in separate processes: tracing every allocation costs memory of its own.
    """
    with tempfile.TemporaryDirectory() as scratch, imported_catalogue(Path(scratch)) as catalogue:
        tick_class = catalogue.message(MARKET_DATA, "TickData")
        rng = random.Random(11)
        encoded = [
            to_message(tick_class, tick_data(rng, index)).SerializeToString()
            if kind == "protobuf"
            else json.dumps(tick_data(rng, index), separators=(",", ":"))
            for index in range(MEMORY_OBJECTS)
        ]
        gc.collect()
        if measure == "tracemalloc":
            tracemalloc.start()
        rss_before = _rss_bytes()
        if kind == "protobuf":
            held = [tick_class.FromString(data) for data in encoded]
        else:
            held = [json.loads(text) for text in encoded]
        gc.collect()
        used = tracemalloc.get_traced_memory()[0] if measure == "tracemalloc" else _rss_bytes() - rss_before
        assert len(held) == MEMORY_OBJECTS
        return {f"{measure}_bytes": used}


def _rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def memory() -> dict:
    """Run the memory probe for protobuf and for JSON, each in a process of its own."""
    results = {}
    for kind in ("protobuf", "json"):
        results[kind] = {"objects": MEMORY_OBJECTS}
        for measure in ("tracemalloc", "rss"):
            done = subprocess.run(
                [sys.executable, __file__, "--memory-probe", f"{kind}:{measure}"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=300,
            )
            if done.returncode != 0:
                raise BenchFailed(f"memory probe {kind}:{measure} failed:\n{done.stderr}")
            results[kind].update(json.loads(done.stdout.strip().splitlines()[-1]))
    for measure in ("tracemalloc_bytes", "rss_bytes"):
        results[f"saving_by_{measure.removesuffix('_bytes')}"] = round(
            1 - results["protobuf"][measure] / results["json"][measure], 3
        )
    return results


# ---------------------------------------------------------------- report


def markdown(report: dict) -> str:
    machine, nats, grpc_result, mem = report["machine"], report["nats"], report["grpc"], report["memory"]
    memory_verdict = "holds" if mem["saving_by_rss"] >= TARGETS["memory_saving"] else "does not hold"
    lines = [
        "# Transports benchmark",
        "",
        f"{report['date']} on {machine['processor']} ({machine['cpus']} CPUs), Python {machine['python']}, "
        f"protobuf {machine['protobuf']} ({machine['protobuf_backend']}). Load average {report['load_before']} before, "
        f"{report['load_after']} after: the machine is shared with other engineers' test runs, so figures are noisy.",
        "",
        "## NATS publish to consume (JetStream, loopback)",
        "",
        f"{nats['count']} TickData messages, one in flight at a time: the producer publishes with the registry's "
        "headers and awaits JetStream's acknowledgement; a push consumer checks each against the registry (schema id, "
        "subject, state, tenant; every lookup a cache hit after the first message) and decodes it.",
        "",
        "| p50 | p99 | max | target p50 |",
        "| ---: | ---: | ---: | ---: |",
        f"| {nats['p50_ms']} ms | {nats['p99_ms']} ms | {nats['max_ms']} ms | < {TARGETS['nats_p50_ms']} ms "
        f"({'met' if nats['p50_ms'] < TARGETS['nats_p50_ms'] else 'missed'}) |",
        "",
        "## Kafka framing against raw protobuf",
        "",
        "Microseconds per call, median (best) of the repeats, pinned to one core; ratios are of the best times, as "
        "timeit advises on a loaded machine. The serializer adds Confluent's header from its cache (schema id known); "
        "the deserializer reads the frame and checks the writer's message type against its cache.",
        "",
        "| Message | Bytes | Raw serialize | Serializer | Ratio | confluent-kafka's | Raw parse | Deserializer | Ratio "
        "| confluent-kafka's |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in report["framing"]:
        cells = {
            name: f"{row[name + '_us']} ({row[name + '_best_us']})"
            for name in (
                "raw_serialize",
                "serializer",
                "confluent_serializer",
                "raw_parse",
                "deserializer",
                "confluent_deserializer",
            )
        }
        lines.append(
            f"| {row['message']} | {row['bytes']} | {cells['raw_serialize']} | {cells['serializer']} | "
            f"{row['serialize_ratio']}x | {cells['confluent_serializer']} | {cells['raw_parse']} | "
            f"{cells['deserializer']} | {row['parse_ratio']}x | {cells['confluent_deserializer']} |"
        )
    worst = max(max(row["serialize_ratio"], row["parse_ratio"]) for row in report["framing"])
    lines += [
        "",
        f"Target: no more than {TARGETS['framing_ratio']}x raw; worst ratio {worst}x "
        f"({'met' if worst <= TARGETS['framing_ratio'] else 'missed'}). What the client adds is a fixed cost of "
        "under a microsecond per message (a Python call, a header lookup, a bytes concatenation or a struct unpack), "
        "so the ratio is worst for the smallest messages, whose raw cost is itself a fraction of a microsecond. "
        "confluent-kafka's own serializers, timed on the same registry and bytes, show what the same job costs there.",
        "",
        "## gRPC overhead",
        "",
        "| Call | p50 | p99 |",
        "| --- | ---: | ---: |",
    ]
    for label, key in (
        ("OrderService.PlaceOrder, servicer called in-process", "place_order_in_process"),
        ("OrderService.PlaceOrder over loopback gRPC", "place_order_over_grpc"),
        ("Registry GetSchemaById over gRPC (grpcserver)", "registry_get_schema_by_id_grpc"),
        ("Registry GET /schemas/ids/{id} over REST (gunicorn)", "registry_get_schema_by_id_rest"),
    ):
        lines.append(f"| {label} | {grpc_result[key]['p50_ms']} ms | {grpc_result[key]['p99_ms']} ms |")
    lines += [
        "",
        f"gRPC adds {grpc_result['added_p50_ms']} ms at p50. Percentile differences are not additive, so the check "
        "is the stricter one: the whole call over gRPC stays under the spec's "
        f"{TARGETS['grpc_overhead_ms']} ms of overhead at p99 ({grpc_result['place_order_over_grpc']['p99_ms']} ms; "
        f"{'met' if grpc_result['place_order_over_grpc']['p99_ms'] < TARGETS['grpc_overhead_ms'] else 'missed'}). "
        "The in-process p99 shows how much of the tail is the loaded machine rather than gRPC.",
        "",
        "## Memory: parsed protobuf against JSON objects",
        "",
        f"{mem['protobuf']['objects']:,} TickData held at once, each kind in a fresh process.",
        "",
        "| Held as | tracemalloc | RSS growth |",
        "| --- | ---: | ---: |",
        f"| protobuf messages (FromString) | {mem['protobuf']['tracemalloc_bytes'] / 1e6:.1f} MB | "
        f"{mem['protobuf']['rss_bytes'] / 1e6:.1f} MB |",
        f"| dicts (json.loads) | {mem['json']['tracemalloc_bytes'] / 1e6:.1f} MB | "
        f"{mem['json']['rss_bytes'] / 1e6:.1f} MB |",
        f"| saving | {mem['saving_by_tracemalloc']:.0%} | {mem['saving_by_rss']:.0%} |",
        "",
        "tracemalloc sees only memory allocated through Python's allocators: upb keeps message fields in its own "
        "malloc'd arenas, invisible to it, so its protobuf figure counts the Python wrappers only and flatters "
        "protobuf. The RSS growth (measured without tracemalloc running) counts everything the process took from the "
        'system and is the figure to quote for the spec\'s "50% less than JSON objects" '
        f"({memory_verdict} on this measure).",
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000, help="NATS messages timed (default %(default)s)")
    parser.add_argument("--calls", type=int, default=2_000, help="gRPC calls timed per kind (default %(default)s)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats: a smoke run, not figures to quote")
    parser.add_argument("--memory-probe", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.memory_probe:
        print(json.dumps(memory_probe(*arguments.memory_probe.split(":"))))
        return 0
    from registry_client import RegistryClient

    settings = TimingSettings.chosen(arguments.quick)
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="bench_transports_") as scratch:
        registry = start_registry(Path(scratch))
        try:
            with (
                imported_catalogue(Path(scratch) / "modules") as catalogue,
                RegistryClient({"url": registry.url, "basic.auth.user.info": ":".join(ADMIN)}) as client,
            ):
                registry.client = client
                report = {
                    "benchmark": "transports",
                    "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                    "machine": machine_info(),
                    "load_before": load_before,
                    "framing": framing(catalogue, client, settings),
                    "nats": asyncio.run(nats_latency(catalogue, client, arguments.messages)),
                    "grpc": grpc_overhead(catalogue, registry, arguments.calls),
                }
        finally:
            stop(registry.processes)
    report["memory"] = memory()
    report["load_after"] = load_average()
    report["targets"] = TARGETS
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "transports.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (RESULTS_DIR / "transports.md").write_text(markdown(report), encoding="utf-8")
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
