"""Read replicas: lookups read from a replica, everything else from the primary.

Configured by DATABASE_REPLICA_URLS (settings.py adds each as `replica_N`). Within one request or task,
once anything was written, every later read goes to the primary too, so a client always reads its own
write; reads inside a transaction go to the primary as well, because a transaction must see one state.
A client's next request may still read a replica that lags behind by the replication delay.
"""

import contextvars
import random

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

_wrote = contextvars.ContextVar("wrote_to_primary", default=False)


def start_unit_of_work() -> None:
    """Forget earlier writes of this thread: a new request or task reads replicas until it writes."""
    _wrote.set(False)


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias.startswith("replica_")]


class PrimaryReplicaRouter:
    """Django database router: writes and read-after-write to the primary, other reads to a random replica."""

    def db_for_read(self, model, **hints):
        replicas = replica_aliases()
        if not replicas or _wrote.get() or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return random.choice(replicas)

    def db_for_write(self, model, **hints):
        _wrote.set(True)
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # every alias holds the same data

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


class ReadYourWritesMiddleware:
    """Start each request reading from the replicas; its first write pins it to the primary."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _wrote.set(False)
        try:
            return self.get_response(request)
        finally:
            _wrote.reset(token)
