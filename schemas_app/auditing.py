"""Attribute audit log entries to the acting user of a service call.

auditlog's middleware sees only session users; API clients authenticate inside
DRF (Basic, Token), so services set the actor themselves.
"""

import functools

from auditlog.context import set_actor


def audited(service):
    """Run a service with its `acting_user` keyword recorded as the actor of every change it makes."""

    @functools.wraps(service)
    def wrapper(*args, **kwargs):
        user = kwargs.get("acting_user")
        if user is None or not getattr(user, "is_authenticated", False):
            return service(*args, **kwargs)
        with set_actor(user):
            return service(*args, **kwargs)

    return wrapper
