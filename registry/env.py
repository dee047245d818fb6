"""Read typed settings from the environment; a bad value stops start-up with a clear message."""

import ipaddress
import os
import re
import sys

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def management_command() -> str | None:
    """Return the `manage.py` command this process runs, or None for a server, a worker or a test run."""
    if len(sys.argv) > 1 and os.path.basename(sys.argv[0]) in ("manage.py", "django-admin"):
        return sys.argv[1]
    return None


def env_str(name: str, default: str | None = None) -> str | None:
    """Return the variable as text, or the default when it is unset."""
    return os.environ.get(name, default)


def parse_bool(raw: str) -> bool | None:
    """Return True or False for 1/0, true/false, yes/no, on/off in any case; None for anything else."""
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return None


def env_bool(name: str, default: bool = False) -> bool:
    """Return the variable as a boolean; accept 1/0, true/false, yes/no, on/off in any case."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = parse_bool(raw)
    if value is None:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use true or false.")
    return value


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return the variable as an integer within the given bounds."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if minimum is not None and value < minimum or maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name}={value} is outside {minimum}..{maximum}.")
    return value


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    """Return the variable as a number (decimals allowed) no smaller than `minimum`."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below {minimum}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """Return the variable as a comma-separated list with blanks dropped."""
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_networks(name: str, default: list[str]) -> list:
    """Return the variable as a list of IP networks (CIDR, or a bare address for one host)."""
    networks = []
    for item in env_list(name, default):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {item!r} is not an IP network such as 10.0.0.0/8.") from None
    return networks


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """Return the variable lower-cased when it is one of `choices`."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={raw!r} is not one of {', '.join(choices)}.")
    return value


def env_header(name: str) -> str | None:
    """Return the variable, an HTTP header's name, as Django's request.META key (X-Forwarded-Proto: HTTP_X_...)."""
    raw = (os.environ.get(name) or "").strip()
    if not raw:
        return None
    if not re.fullmatch(r"[A-Za-z0-9-]+", raw):
        raise ImproperlyConfigured(f"{name}={raw!r} is not an HTTP header name such as X-Forwarded-Proto.")
    return "HTTP_" + raw.upper().replace("-", "_")
