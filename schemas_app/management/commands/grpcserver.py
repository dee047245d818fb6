"""python manage.py grpcserver: serve registry.v1.SchemaRegistry over gRPC until interrupted."""

from django.core.management.base import BaseCommand

from schemas_app.grpc_api import SERVICE_NAME, build_server


class Command(BaseCommand):
    help = "Serve the registry's gRPC API (registry.v1.SchemaRegistry) with the REST API's authentication."

    def add_arguments(self, parser):
        parser.add_argument("--address", default="127.0.0.1:50051", help="host:port to listen on (default %(default)s)")
        parser.add_argument("--workers", type=int, default=8, help="threads serving calls (default %(default)s)")

    def handle(self, *args, address, workers, **options):
        server, port = build_server(address, max_workers=workers)
        server.start()
        host = address.rsplit(":", 1)[0]
        self.stdout.write(f"Serving {SERVICE_NAME} on {host}:{port}", ending="\n")
        self.stdout.flush()
        try:
            server.wait_for_termination()
        except KeyboardInterrupt:
            server.stop(grace=5).wait()
