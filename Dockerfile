# Production image: gunicorn serving the registry on 8081; the same image runs the Celery worker and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 REGISTRY_PORT=8081
WORKDIR /app

# Code generation's tools: protoc's built-in languages, the Go plugins, and Node.js for ts-proto.
RUN apt-get update \
    && apt-get install -y --no-install-recommends protobuf-compiler protoc-gen-go protoc-gen-go-grpc nodejs npm \
    && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml README.md ./
COPY registry ./registry
COPY schemas_app ./schemas_app
COPY codegen ./codegen
COPY protoengine ./protoengine
COPY registry_client ./registry_client
RUN pip install --no-cache-dir ".[server]" && cd codegen/node && rm -rf node_modules && npm ci --no-audit --no-fund

COPY manage.py gunicorn.conf.py ./
COPY templates ./templates
COPY static ./static
COPY schemas ./schemas
# collectstatic needs a key to import settings; the real one comes from the environment at run time.
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput

RUN useradd --system --home /app registry && mkdir -p /app/var && chown -R registry /app/var
USER registry

EXPOSE 8081
# gunicorn.conf.py (read from /app) binds 0.0.0.0:$REGISTRY_PORT with GUNICORN_WORKERS workers and JSON logs.
CMD ["gunicorn", "registry.wsgi"]
