"""A runnable example of the catalogue's gRPC services: market data streaming and order entry.

    python examples/trading_services.py --port 50061

At start-up protoc (from grpcio-tools) generates the Python messages and gRPC stubs of trading/market_data.proto
and trading/orders.proto (with their imports) from `schemas/` into a temporary folder; nothing generated is kept.
`MarketDataService.StreamMarketData` streams batches of ticks for the requested symbols until the client cancels;
`OrderService` accepts, looks up and cancels orders and streams their execution reports. State lives in memory.
The first line printed is `listening on 127.0.0.1:PORT`, so that a test (or a script) can start it with port 0.
"""

import argparse
import importlib
import itertools
import math
import sys
import tempfile
import threading
import time
import uuid
from concurrent import futures
from pathlib import Path
from types import SimpleNamespace

import grpc

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
FILES = ("common/timestamp.proto", "common/money.proto", "trading/market_data.proto", "trading/orders.proto")


def generate(output_dir: Path, schemas_dir: Path = SCHEMAS) -> SimpleNamespace:
    """Generate and import the modules the services need; return them as market_data, orders and their _grpc."""
    import grpc_tools
    from grpc_tools import protoc

    well_known = Path(grpc_tools.__file__).parent / "_proto"
    arguments = ["protoc", f"-I{schemas_dir}", f"-I{well_known}", f"--python_out={output_dir}"]
    arguments += [f"--grpc_python_out={output_dir}", *FILES]
    if protoc.main(arguments) != 0:
        raise RuntimeError(f"protoc could not generate {FILES} from {schemas_dir}")
    sys.path.insert(0, str(output_dir))
    return SimpleNamespace(
        market_data=importlib.import_module("trading.market_data_pb2"),
        market_data_grpc=importlib.import_module("trading.market_data_pb2_grpc"),
        orders=importlib.import_module("trading.orders_pb2"),
        orders_grpc=importlib.import_module("trading.orders_pb2_grpc"),
    )


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def servicers(modules: SimpleNamespace, *, tick_interval: float = 0.01, ticks_per_batch: int = 1):
    """Return (market data servicer, order servicer) built on the generated base classes."""
    md, orders = modules.market_data, modules.orders

    class MarketData(modules.market_data_grpc.MarketDataServiceServicer):
        def StreamMarketData(self, request, context):
            symbols = list(request.symbols) or ["EURUSD"]
            for sequence in itertools.count(1):
                if not context.is_active():
                    return
                batch = md.MarketDataStream(source="example", sequence_number=sequence, tenant_id=request.tenant_id)
                for symbol in symbols:
                    for _ in range(ticks_per_batch):
                        mid = 100 + math.sin(sequence / 10) + (hash(symbol) % 100)
                        batch.ticks.add(
                            symbol=symbol,
                            bid=mid - 0.01,
                            ask=mid + 0.01,
                            volume=1000.0,
                            timestamp_ms=now_ms(),
                            tenant_id=request.tenant_id,
                        )
                yield md.StreamMarketDataResponse(tenant_id=request.tenant_id, ticks=batch)
                if tick_interval:
                    time.sleep(tick_interval)

        def GetOrderBook(self, request, context):
            depth = request.depth_levels or 10
            book = md.OrderBook(
                symbol=request.symbol,
                update_type=md.ORDER_BOOK_UPDATE_TYPE_SNAPSHOT,
                timestamp_ms=now_ms(),
                source="example",
                tenant_id=request.tenant_id,
            )
            for level in range(depth):
                book.bids.add(price=100 - 0.01 * (level + 1), quantity=100.0 * (level + 1), order_count=level + 1)
                book.asks.add(price=100 + 0.01 * (level + 1), quantity=100.0 * (level + 1), order_count=level + 1)
            return md.GetOrderBookResponse(tenant_id=request.tenant_id, order_book=book)

    class Orders(modules.orders_grpc.OrderServiceServicer):
        def __init__(self):
            self.orders: dict[tuple[str, str], object] = {}
            self.reports: dict[tuple[str, str], list] = {}
            self.changed = threading.Condition()

        def _report(self, order, execution_type):
            report = orders.ExecutionReport(
                execution_id=uuid.uuid4().hex,
                tenant_id=order.tenant_id,
                order_id=order.order_id,
                client_order_id=order.client_order_id,
                account_id=order.account_id,
                symbol=order.symbol,
                side=order.side,
                execution_type=execution_type,
                order_status=order.status,
            )
            report.transact_time.GetCurrentTime()
            with self.changed:
                stream = self.reports.setdefault((order.tenant_id, order.account_id), [])
                report.sequence_number = len(stream) + 1
                stream.append(report)
                self.changed.notify_all()

        def PlaceOrder(self, request, context):
            if not request.tenant_id or not request.symbol:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "tenant_id and symbol are required")
            order = orders.Order(
                order_id=uuid.uuid4().hex,
                client_order_id=request.client_order_id,
                tenant_id=request.tenant_id,
                account_id=request.account_id,
                symbol=request.symbol,
                side=request.side,
                order_type=request.order_type,
                time_in_force=request.time_in_force,
                quantity=request.quantity,
                remaining_quantity=request.quantity,
            )
            if request.HasField("limit_price"):
                order.limit_price.CopyFrom(request.limit_price)
            order.created_at.GetCurrentTime()
            if request.quantity <= 0:
                order.status, order.reject_reason = orders.ORDER_STATUS_REJECTED, orders.REJECT_REASON_INVALID_QUANTITY
                self._report(order, orders.EXECUTION_TYPE_REJECTED)
            else:
                order.status = orders.ORDER_STATUS_PENDING_NEW
                self._report(order, orders.EXECUTION_TYPE_NEW)
            self.orders[(order.tenant_id, order.order_id)] = order
            return orders.PlaceOrderResponse(tenant_id=order.tenant_id, order=order)

        def _find(self, request, context):
            order = self.orders.get((request.tenant_id, request.order_id))
            if order is None:
                context.abort(
                    grpc.StatusCode.NOT_FOUND, f"no order {request.order_id!r} in tenant {request.tenant_id!r}"
                )
            return order

        def GetOrder(self, request, context):
            return orders.GetOrderResponse(tenant_id=request.tenant_id, order=self._find(request, context))

        def CancelOrder(self, request, context):
            order = self._find(request, context)
            order.status = orders.ORDER_STATUS_PENDING_CANCEL
            self._report(order, orders.EXECUTION_TYPE_PENDING_CANCEL)
            return orders.CancelOrderResponse(tenant_id=request.tenant_id, order=order)

        def StreamExecutionReports(self, request, context):
            key, sent = (request.tenant_id, request.account_id), max(request.from_sequence_number - 1, 0)
            while context.is_active():
                with self.changed:
                    self.changed.wait_for(lambda sent=sent: len(self.reports.get(key, [])) > sent, timeout=0.1)
                    pending = self.reports.get(key, [])[sent:]
                for report in pending:
                    sent += 1
                    if not request.symbols or report.symbol in request.symbols:
                        yield orders.StreamExecutionReportsResponse(
                            tenant_id=request.tenant_id, execution_report=report
                        )

    return MarketData(), Orders()


def build_server(modules: SimpleNamespace, port: int = 0, **options) -> tuple[grpc.Server, int]:
    """Return a started server of both services on 127.0.0.1 and the port it listens on."""
    market_data, order_entry = servicers(modules, **options)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    modules.market_data_grpc.add_MarketDataServiceServicer_to_server(market_data, server)
    modules.orders_grpc.add_OrderServiceServicer_to_server(order_entry, server)
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    return server, bound


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=50061, help="port on 127.0.0.1; 0 picks a free one")
    parser.add_argument("--tick-interval", type=float, default=0.01, help="seconds between tick batches")
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="trading_services_") as scratch:
        server, port = build_server(generate(Path(scratch)), arguments.port, tick_interval=arguments.tick_interval)
        print(f"listening on 127.0.0.1:{port}", flush=True)
        try:
            server.wait_for_termination()
        except KeyboardInterrupt:
            server.stop(grace=1).wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
