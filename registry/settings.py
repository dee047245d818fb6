"""Settings of the schema registry, all read from the environment here and nowhere else.

Every variable is listed with its default in README.md ("Configuration").
"""

import logging
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from registry.env import (
    env_bool,
    env_choice,
    env_float,
    env_header,
    env_int,
    env_list,
    env_networks,
    env_str,
    management_command,
)
from registry.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("REGISTRY_VAR_DIR", str(BASE_DIR / "var")))

# Off in production; the quick start turns it on for a laptop.
DEBUG = env_bool("DEBUG", False)

# Commands that work on files (and a registry's REST API) only: they sign nothing and open no database,
# so they run without SECRET_KEY, as the README shows them.
KEYLESS_COMMANDS = {"breaking", "lint", "validate_schemas", "generate_code", "deploy_schemas", "help"}

# Required when DEBUG is off so that sessions, API token hashes and signed data are never forgeable.
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if DEBUG:
        SECRET_KEY = "insecure-development-key-only-for-debug"
    elif management_command() in KEYLESS_COMMANDS:
        # A key of this process alone: anything it could sign would be useless to anyone else.
        SECRET_KEY = secrets.token_hex(32)
    else:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (for example: export SECRET_KEY=$(openssl rand -hex 32))."
        )

# Host names this server answers to; the loopback names suit the quick start.
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])

# Origins trusted for CSRF on the admin when served behind HTTPS (scheme://host).
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# The port `make run` and the Docker image serve on; 8081 is the Confluent default clients expect.
REGISTRY_PORT = env_int("REGISTRY_PORT", 8081, minimum=1, maximum=65535)

# Where the bundled .proto tree lives; `load_schemas` registers it.
REGISTRY_SCHEMAS_DIR = Path(env_str("REGISTRY_SCHEMAS_DIR", str(BASE_DIR / "schemas")))

# The largest schema text accepted, in bytes (Confluent answers 42209 above its own limit).
REGISTRY_MAX_SCHEMA_BYTES = env_int("REGISTRY_MAX_SCHEMA_BYTES", 1024 * 1024, minimum=1024)
# Bounds on the work one request may cause (a hostile schema must not keep the CPUs busy).
# Most fields a schema and the files it imports may declare together; past it, 42209.
REGISTRY_MAX_SCHEMA_FIELDS = env_int("REGISTRY_MAX_SCHEMA_FIELDS", 10_000, minimum=1)
# Most files a schema may import through references, directly or not, and how deep the imports may nest; 42201.
REGISTRY_MAX_REFERENCES = env_int("REGISTRY_MAX_REFERENCES", 1_000, minimum=1)
REGISTRY_MAX_REFERENCE_DEPTH = env_int("REGISTRY_MAX_REFERENCE_DEPTH", 32, minimum=1)
# Compatibility checks one client (a signed-in user, else an address) may ask per minute; 0 switches the limit off.
REGISTRY_COMPATIBILITY_CHECKS_PER_MINUTE = env_int("REGISTRY_COMPATIBILITY_CHECKS_PER_MINUTE", 120, minimum=0)
# Proxies in front of the registry that append to X-Forwarded-For; 0 reads the client's address from the socket only.
REGISTRY_TRUSTED_PROXIES = env_int("REGISTRY_TRUSTED_PROXIES", 0, minimum=0)
# Request bodies follow the schema limit (a JSON-escaped schema plus the other fields); larger ones get 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * REGISTRY_MAX_SCHEMA_BYTES + 16 * 1024

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "auditlog",
    "django_prometheus",
    "schemas_app",
    "codegen",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # First of ours: every later log line of the request carries its id.
    "registry.logs.RequestIdMiddleware",
    # Before anything reads the body: refuses oversized bodies, and answers API clients' errors in JSON.
    "schemas_app.api.middleware.JSONErrorsMiddleware",
    # Each request starts reading from the replicas (when there are any) until it writes.
    "registry.db_router.ReadYourWritesMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Answers cached lookups by id and by subject version itself, as the rest of the stack and DRF would.
    "schemas_app.api.fast_lookups.CachedLookupMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Django's, opening the message storage only when a page uses it (API requests never do).
    "registry.middleware.LazyMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # auditlog's, with its receiver connected once instead of around every request.
    "schemas_app.auditing.RequestAuditMiddleware",
    # django-prometheus's After middleware, finding each labelled child once.
    "registry.middleware.RequestMetricsMiddleware",
]

# Messages wait in the server-side session, never in a cookie: they carry one-time secrets (new API tokens, webhook
# secrets), and Django's default keeps them in a cookie that is signed but readable by whoever holds it.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Audit entries name their request by the id registry.logs.RequestIdMiddleware gives it (and logs and echoes).
AUDITLOG_CID_GETTER = "schemas_app.auditing.audit_request_id"

ROOT_URLCONF = "registry.urls"
# Clients address subjects without a trailing slash; never redirect them.
APPEND_SLASH = False
WSGI_APPLICATION = "registry.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite under var/ is the embedded default; production sets postgres://user:pass@host:5432/name.
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'registry.sqlite3'}"
if DATABASE_URL.startswith("sqlite:///"):
    # The embedded default must work on a fresh clone, where var/ may not exist yet.
    Path(DATABASE_URL.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
DATABASE_CONN_MAX_AGE = env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=DATABASE_CONN_MAX_AGE)}
# Read replicas of the primary (postgres:// URLs, comma-separated): lookups read from them, writes and
# reads after a write in the same request go to the primary (registry.db_router).
DATABASE_REPLICA_URLS = env_list("DATABASE_REPLICA_URLS", [])
for _index, _url in enumerate(DATABASE_REPLICA_URLS):
    # In tests a replica is the test database itself.
    DATABASES[f"replica_{_index}"] = {
        **dj_database_url.parse(_url, conn_max_age=DATABASE_CONN_MAX_AGE),
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["registry.db_router.PrimaryReplicaRouter"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front, so two writers queue instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

# Redis for the shared cache; without it each process keeps a local-memory cache.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "registry",
            "OPTIONS": {
                # A Redis outage must degrade to the database, never fail a request.
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
            },
        }
    }
    DJANGO_REDIS_IGNORE_EXCEPTIONS = True
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "registry"}}
# Seconds a process trusts the cache generation it last read from the database. An invalidation that cannot reach
# Redis (an outage) moves the generation on, and within this time every process stops reading the entries it left.
REGISTRY_CACHE_GENERATION_SECONDS = env_float("REGISTRY_CACHE_GENERATION_SECONDS", 1.0, minimum=0.0)

# Without a broker, tasks run in-process so the quick start needs no services.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or (REDIS_URL if CELERY_BROKER_URL else None)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
# A task is acknowledged once it has run, and handed back when its worker process dies under it (killed, out of
# memory), so nothing is lost with a worker; every task is safe to run twice.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A worker reserves one task at a time, so the tasks of a worker that dies wait for nobody else.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# With Redis as broker, a task whose whole worker died unacknowledged goes back to the queue after this many
# seconds; it must outlast the longest task and retry countdown, or a task still running is delivered twice.
_visibility_timeout = env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": _visibility_timeout,
    # Running workers look for such tasks every quarter of the timeout (at most each minute), not kombu's 100 s.
    "unacked_restore_interval": max(1, min(60, _visibility_timeout // 4)),
    "unacked_restore_throttle": 1,
}
# Each kind of work has a queue of its own, served by workers of its own (docker-compose.yml), so a burst of code
# generation never delays a review's preparation or a webhook. A worker started without -Q consumes every queue here.
CELERY_TASK_DEFAULT_QUEUE = "celery"  # the rest: git history commits and beat's jobs
CELERY_TASK_ROUTES = {
    # A review's preparation: compatibility, lint, semantic version and impact of the proposed change.
    "schemas_app.prepare_change_request": {"queue": "compatibility"},
    "schemas_app.generate_archive": {"queue": "codegen"},
    # Webhook and e-mail deliveries (deprecation warnings among them), retried with backoff.
    "schemas_app.deliver_notification": {"queue": "notifications"},
}
# Each queue with an exchange and routing key of its own name, as Celery declares the default queue (a bare Queue(name)
# would take the default queue's exchange and routing key instead).
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name), routing_key=name)
    for name in (CELERY_TASK_DEFAULT_QUEUE, *(route["queue"] for route in CELERY_TASK_ROUTES.values()))
]
CELERY_BEAT_SCHEDULE = {
    # Warnings at grace end and disabling at sunset, hourly.
    "apply-deprecation-policy": {"task": "schemas_app.apply_deprecation_policy", "schedule": 3600.0},
    # Delete generated archives unused for CODEGEN_RETENTION_DAYS.
    "codegen-prune-archives": {"task": "schemas_app.prune_archives", "schedule": 6 * 3600},
    # Tasks a broker failure kept from being queued after their commit (schemas_app.dispatch).
    "requeue-waiting-work": {"task": "schemas_app.requeue_waiting_work", "schedule": 300.0},
    # Versions whose git history commit was lost with its writer (a registration's next commit writes them too).
    "catch-up-git-history": {"task": "schemas_app.catch_up_git_history", "schedule": 60.0},
}

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Lint rules switched off registry-wide (subjects add their own through /config/{subject} lintExcept).
# The spec's layout keeps package trading.v1 in trading/, so buf's directory-match rule is off by default.
REGISTRY_LINT_EXCEPT = env_list("REGISTRY_LINT_EXCEPT", ["PACKAGE_DIRECTORY_MATCH"])

# Packages (and their subpackages) whose top-level messages must carry `string tenant_id` (MESSAGE_TENANT_ID).
# The engine knows no package names; these are the bundled catalogue's domains (schemas/buf.yaml says the same).
REGISTRY_TENANT_PACKAGES = env_list("REGISTRY_TENANT_PACKAGES", ["trading", "ai", "system"])

# Governance defaults; a tenant's global config row and a subject's row override them (PUT /config).
# Review policy: "none" refuses a breaking change with 409 (Confluent's behaviour), "breaking" holds it for
# review, "all" holds every change.
REGISTRY_REVIEW_POLICY = env_choice("REGISTRY_REVIEW_POLICY", "breaking", ("none", "breaking", "all"))
# Lint policy: "warn" stores findings, "review" holds a change with findings for review, "block" refuses it with 42201.
REGISTRY_LINT_POLICY = env_choice("REGISTRY_LINT_POLICY", "warn", ("warn", "review", "block"))
# Approvals a held change needs before it is registered (four eyes always: never the author's own).
REGISTRY_REQUIRED_APPROVALS = env_int("REGISTRY_REQUIRED_APPROVALS", 1, minimum=1, maximum=5)
# Hours subscribers are given between a breaking proposal and its earliest approval (the spec's 48 h notice).
REGISTRY_NOTICE_HOURS = env_int("REGISTRY_NOTICE_HOURS", 48, minimum=0)
# Deprecation policy (the spec: deprecate after 30 days, remove after 90): days from deprecation until owners are
# warned that the grace period is over, and until the version is disabled (unless a sunset date is given).
REGISTRY_DEPRECATION_GRACE_DAYS = env_int("REGISTRY_DEPRECATION_GRACE_DAYS", 30, minimum=0)
REGISTRY_DEPRECATION_REMOVAL_DAYS = env_int("REGISTRY_DEPRECATION_REMOVAL_DAYS", 90, minimum=1)
# Sender of the registry's notification e-mails (Django's EMAIL_* settings choose the server).
REGISTRY_NOTIFICATION_FROM = env_str("REGISTRY_NOTIFICATION_FROM", "schema-registry@localhost")
# Where ensure_admin writes the admin password it generates (mode 0600), so that no log receives it.
REGISTRY_ADMIN_PASSWORD_FILE = Path(env_str("REGISTRY_ADMIN_PASSWORD_FILE", str(VAR_DIR / "admin-password")))
# The git repository (bare) where every registered version is committed; empty switches git history off.
REGISTRY_GIT_HISTORY_DIR = env_str("REGISTRY_GIT_HISTORY_DIR", str(VAR_DIR / "history.git"))
# Webhook deliveries: attempts in all (retried with exponential backoff from the base delay) and the HTTP timeout.
REGISTRY_WEBHOOK_ATTEMPTS = env_int("REGISTRY_WEBHOOK_ATTEMPTS", 6, minimum=1, maximum=20)
REGISTRY_WEBHOOK_BACKOFF_SECONDS = env_int("REGISTRY_WEBHOOK_BACKOFF_SECONDS", 30, minimum=0)
REGISTRY_WEBHOOK_TIMEOUT = env_float("REGISTRY_WEBHOOK_TIMEOUT", 5.0)

# Anonymous reads are off: every reader signs in. `make run` turns them on for a laptop (and says so).
REGISTRY_ANONYMOUS_READ = env_bool("REGISTRY_ANONYMOUS_READ", False)

# Failed sign-ins allowed in a minute before 429: per account from one address, per address (any account),
# and per account from everywhere (high, so that one attacker cannot lock the owner out).
REGISTRY_AUTH_FAILURES_PER_ACCOUNT = env_int("REGISTRY_AUTH_FAILURES_PER_ACCOUNT", 20, minimum=1)
REGISTRY_AUTH_FAILURES_PER_ADDRESS = env_int("REGISTRY_AUTH_FAILURES_PER_ADDRESS", 100, minimum=1)
REGISTRY_AUTH_FAILURES_PER_ACCOUNT_EVERYWHERE = env_int("REGISTRY_AUTH_FAILURES_PER_ACCOUNT_EVERYWHERE", 200, minimum=1)

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "schemas_app.api.openapi.RegistryAutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "schemas_app.api.authentication.RememberingBasicAuthentication",
        # `Authorization: Bearer <token>` for service accounts and CI jobs; tokens come from /tokens or the admin.
        "schemas_app.api.authentication.BearerTokenAuthentication",
        # The browser's session, with CSRF checked on every unsafe method.
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "EXCEPTION_HANDLER": "schemas_app.api.common.registry_exception_handler",
    # Per-client rates count addresses behind this many proxies (X-Forwarded-For is trusted no further).
    "NUM_PROXIES": REGISTRY_TRUSTED_PROXIES,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Protocol Buffers Schema Registry",
    "DESCRIPTION": "Confluent-compatible schema registry for Protocol Buffers, with governance and code generation.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Serve Swagger UI's files ourselves: registries often run where no CDN is reachable.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Every operation declares the JSON error shape for 4xx and 5xx answers.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "schemas_app.api.openapi.declare_error_answers",
    ],
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# People who are not admins sign in to the pages at /accounts/login/ and land on the catalogue.
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/ui/"
LOGOUT_REDIRECT_URL = "/ui/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Where generated code archives are kept.
MEDIA_ROOT = Path(env_str("REGISTRY_MEDIA_ROOT", str(VAR_DIR / "media")))
# Archives of generated code go to this Django storage backend: a local folder by default, S3 and the like by
# configuration (a dotted class path; its own settings, such as AWS_STORAGE_BUCKET_NAME, come from the environment).
CODEGEN_STORAGE_BACKEND = env_str("CODEGEN_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage")
# The local folder FileSystemStorage keeps archives in.
CODEGEN_ARCHIVE_DIR = Path(env_str("CODEGEN_ARCHIVE_DIR", str(MEDIA_ROOT / "codegen")))
STORAGES["codegen"] = {
    "BACKEND": CODEGEN_STORAGE_BACKEND,
    "OPTIONS": {"location": str(CODEGEN_ARCHIVE_DIR)} if CODEGEN_STORAGE_BACKEND.endswith("FileSystemStorage") else {},
}
# Archives nobody asked for in this many days are deleted (0 keeps them forever); a later request regenerates them.
CODEGEN_RETENTION_DAYS = env_int("CODEGEN_RETENTION_DAYS", 30, minimum=0)
# A running job whose worker has not reported for this long is taken over by the next worker that receives it.
CODEGEN_JOB_LEASE_SECONDS = env_int("CODEGEN_JOB_LEASE_SECONDS", 600, minimum=1)
# How often a job is retried after a transient failure (database or storage), with exponential backoff.
CODEGEN_MAX_RETRIES = env_int("CODEGEN_MAX_RETRIES", 5, minimum=0)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Production hardening: on unless DEBUG; set SECURE_SSL_REDIRECT=false behind a proxy that terminates TLS itself.
# The header (such as X-Forwarded-Proto) by which a TLS-terminating proxy says a request came over https. Trusted
# only when named, for only a proxy that overwrites it may vouch for it; unset, only TLS to the registry itself counts.
_proxy_ssl_header = env_header("SECURE_PROXY_SSL_HEADER")
SECURE_PROXY_SSL_HEADER = (_proxy_ssl_header, "https") if _proxy_ssl_header else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Session and CSRF cookies travel over https only.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
# HSTS, sent on https answers only (so only behind TLS), tells browsers to use https alone for a year.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
# Preloading commits the whole domain to https in browsers for months: the operator opts in with
# SECURE_HSTS_PRELOAD, so `check --deploy` does not ask for it on every run.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
# Health probes and the Confluent clients speak plain HTTP inside the cluster.
SECURE_REDIRECT_EXEMPT = [r"^health(/live|/ready)?$", r"^metrics$"]

# /metrics answers a scraper that sends this bearer token, or one whose address is in the allowed networks.
REGISTRY_METRICS_TOKEN = env_str("REGISTRY_METRICS_TOKEN") or None
# Addresses (CIDR) allowed to read /metrics without the token; loopback only unless widened.
REGISTRY_METRICS_ALLOWED_NETWORKS = env_networks("REGISTRY_METRICS_ALLOWED_NETWORKS", ["127.0.0.0/8", "::1/128"])
# Celery queues whose depth /metrics reports; empty means the queues the Celery app declares.
REGISTRY_METRICS_CELERY_QUEUES = env_list("REGISTRY_METRICS_CELERY_QUEUES", [])
# Seconds a readiness probe waits for the Celery broker and for the workers to say which queues they consume.
REGISTRY_HEALTH_TIMEOUT = env_float("REGISTRY_HEALTH_TIMEOUT", 1.0, minimum=0.1)
# Port on which a Celery worker serves its own metrics (task durations); 0 leaves it off.
REGISTRY_WORKER_METRICS_PORT = env_int("REGISTRY_WORKER_METRICS_PORT", 0, minimum=0, maximum=65535)

LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
# json (one object per line, with request id, user and tenant) for log collectors; text for a terminal.
LOG_FORMAT = env_choice("LOG_FORMAT", "json", ("json", "text"))
LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)
# Python's warnings go through logging too, so that even they arrive as JSON lines.
logging.captureWarnings(True)
