"""HTTP requests that follow no redirects, for the calls that carry a secret to an address someone configured.

urllib follows a 3xx answer to whatever http, https or ftp address it names and resends the request's headers
there, Authorization and a webhook's signature included; for a POST answered 301 to 303 it resends a GET. The
webhook deliveries and the remote registry client open their requests through an opener built with
`RedirectsRefused` instead, so a redirect is an error that names where it pointed.
No Django here: the command-line client uses it.
"""

import urllib.error
import urllib.parse
import urllib.request


class RedirectRefused(urllib.error.HTTPError):
    """A redirect answer that was not followed; `location` is the absolute address it named, None without one."""

    def __init__(self, request, answer, code, reason, headers, *, answerer, advice):
        named = headers.get("Location")
        self.location = urllib.parse.urljoin(request.full_url, named) if named else None
        super().__init__(
            request.full_url, code, f"{reason}: {answerer} redirected {self.where}; {advice}", headers, answer
        )

    @property
    def where(self) -> str:
        """Say where the answer pointed: "to 'https://...'", or "without a Location"."""
        return f"to {self.location!r}" if self.location else "without a Location"


class RedirectsRefused(urllib.request.HTTPRedirectHandler):
    """Raise RedirectRefused for every redirect instead of following it; subclasses word the error for their callers."""

    answerer = "the server"
    advice = "redirects are not followed"

    def http_error_302(self, req, fp, code, msg, headers):
        raise RedirectRefused(req, fp, code, msg, headers, answerer=self.answerer, advice=self.advice)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302
