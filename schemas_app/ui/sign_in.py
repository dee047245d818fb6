"""The admin's and the people's sign-in forms, limited as the API's sign-ins are (the same counters).

A wrong password counts against the account from that address, the address and the account
(`schemas_app.api.throttling`); while one of them is over its limit the password is not even
checked, the form says when to try again, and the page answers 429 with Retry-After.
"""

from functools import wraps

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from registry.client_address import source_address
from schemas_app.api import throttling
from schemas_app.errors import TooManyAttempts


class LimitedSignInMixin:
    """Refuse a locked-out account or address before checking the password, and count every wrong password."""

    locked: TooManyAttempts | None = None

    def clean(self):
        username = self.cleaned_data.get("username")
        address = source_address(self.request)
        try:
            throttling.refuse_if_locked(account=username, address=address)
        except TooManyAttempts as locked:
            self.locked = locked
            raise forms.ValidationError(
                "Too many failed sign-ins; try again in %(seconds)s seconds.",
                code="locked",
                params={"seconds": locked.retry_after},
            ) from None
        try:
            return super().clean()
        except forms.ValidationError:
            # Only a wrong name or password counts, not a right one refused for the account's state.
            if self.user_cache is None:
                throttling.record_failure(account=username, address=address)
            raise


class LimitedAuthenticationForm(LimitedSignInMixin, AuthenticationForm):
    """The people's sign-in at /accounts/login/."""


class LimitedAdminAuthenticationForm(LimitedSignInMixin, AdminAuthenticationForm):
    """The admin's sign-in at /admin/login/."""


def answers_429_when_locked(view):
    """Wrap a login view so that a refused, locked-out attempt answers 429 with Retry-After."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        form = (getattr(response, "context_data", None) or {}).get("form")
        locked = getattr(form, "locked", None)
        if locked is not None:
            response.status_code = 429
            response["Retry-After"] = str(locked.retry_after)
        return response

    return wrapped
