"""The address a request comes from, as the sign-in limits and the audit trail record it."""

from django.conf import settings


def source_address(request) -> str:
    """Return the address a request comes from, for the sign-in limits (API, admin, people's pages) and the audit.

    Behind REGISTRY_TRUSTED_PROXIES proxies it is the rightmost X-Forwarded-For hop they did not add (each
    appends the address it was reached from, so the outermost one appends the client's); else the socket's.
    """
    if request is None:
        return "unknown"
    socket_address = request.META.get("REMOTE_ADDR") or "unknown"
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    proxies = settings.REGISTRY_TRUSTED_PROXIES
    if not proxies or not forwarded:
        return socket_address
    hops = [hop.strip() for hop in forwarded.split(",")]
    return hops[-min(proxies, len(hops))] or socket_address
