"""Attribute audit log entries to the acting user of a service call.

auditlog's middleware sees only session users; API clients authenticate inside
DRF (Basic, Token), so services set the actor themselves.
"""

import functools

from auditlog.context import set_actor


def audited(service):
    """Run a service with its `acting_user` keyword recorded as the actor of every change it makes.

    Every write names who made it: a user of the API or the admin, or the system account
    (`services.system_account()`) for commands. None is refused, so the audit trail never
    has an anonymous entry.
    """

    @functools.wraps(service)
    def wrapper(*args, **kwargs):
        user = kwargs.get("acting_user")
        if user is None:
            raise TypeError(
                f"{service.__name__}() needs acting_user: the request's user, or services.system_account() in commands."
            )
        if not user.is_authenticated:
            return service(*args, **kwargs)
        with set_actor(user):
            return service(*args, **kwargs)

    return wrapper
