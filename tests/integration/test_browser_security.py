"""What browsers get: every form that posts carries a CSRF token, and https answers carry HSTS and secure cookies.

The form test walks the pages a signed-in platform admin reaches from /ui/ and /admin/ by following links,
so a form added later is checked without anyone listing it here.
"""

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client
from rest_framework.test import APIClient

from schemas_app import selectors
from schemas_app.notifications import subscription_create
from tests.integration.api.helpers import TICK_V1, TICK_V2_CHANGES_TYPE, put, register

pytestmark = pytest.mark.django_db

PAGE_LIMIT = 300
# Links not followed: files and API answers (no forms), and signing out (the walk would end there).
SKIPPED_PREFIXES = (
    "/static/",
    "/accounts/logout",
    "/admin/logout",
    "/admin/jsi18n",
    "/openapi.json",
    "/docs",
    "/jobs/",
)
ONE_YEAR = 31536000


class FormsAndLinks(HTMLParser):
    """Collect a page's links and its forms, each with its method, action and the names of its inputs."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        elif tag == "form":
            method = (attributes.get("method") or "get").lower()
            self.forms.append({"method": method, "action": attributes.get("action") or "", "inputs": {}})
        elif tag == "input" and self.forms and attributes.get("name"):
            self.forms[-1]["inputs"][attributes["name"]] = attributes.get("value") or ""


def walk(client: Client, seeds: list[str]) -> dict[str, list[dict]]:
    """Follow same-site links breadth first from the seeds; return the forms of every HTML page reached.

    One page of each shape is opened (one change page per admin model, one page per kind of subject page).
    """
    forms_by_page: dict[str, list[dict]] = {}
    queue, seen = deque(seeds), {_shape(seed) for seed in seeds}
    while queue and len(forms_by_page) < PAGE_LIMIT:
        path = queue.popleft()
        response = client.get(path)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        page = FormsAndLinks()
        page.feed(response.content.decode())
        forms_by_page[path] = page.forms
        for link in page.links:
            target = _same_site_path(urljoin(path, link))
            if target and _shape(target) not in seen:
                seen.add(_shape(target))
                queue.append(target)
    assert len(forms_by_page) < PAGE_LIMIT, "the walk stopped at its page limit; raise PAGE_LIMIT"
    return forms_by_page


def _shape(path: str) -> str:
    """Return the path with subject names and ids (segments with a digit) as `*`."""
    path = re.sub(r"^/ui/subjects/.+?/(versions/[^/]+/|diff/|history/)?$", r"/ui/subjects/*/\1", path)
    return re.sub(r"/[^/]*\d[^/]*(?=/)", "/*", path)


def _same_site_path(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("", "http") or parts.netloc not in ("", "testserver"):
        return None
    if not parts.path.startswith(("/ui/", "/admin/", "/accounts/")) or parts.path.startswith(SKIPPED_PREFIXES):
        return None
    return parts.path  # query strings only sort and filter the same pages


@pytest.fixture
def registry_with_content(writer, owner):
    """Versions, a change request waiting for review and a subscription, so their pages have rows to open."""
    author = APIClient()
    author.force_authenticate(writer)
    assert put(author, "/config", {"noticeHours": 0}).status_code == 200
    register(author, "ticks-value", TICK_V1)
    assert register(author, "ticks-value", TICK_V2_CHANGES_TYPE).status_code == 202
    subscription_create(
        tenant=selectors.default_tenant(), webhook_url="https://hooks.example.org/registry", acting_user=owner
    )


def test_every_form_that_posts_carries_a_csrf_token(registry_with_content, owner):
    admin = Client(enforce_csrf_checks=True)
    admin.force_login(owner)
    pages = {**walk(Client(enforce_csrf_checks=True), ["/accounts/login/"]), **walk(admin, ["/ui/", "/admin/"])}

    posting = {(page, form["action"]) for page, forms in pages.items() for form in forms if form["method"] == "post"}
    missing = sorted(
        (page, form["action"])
        for page, forms in pages.items()
        for form in forms
        if form["method"] == "post" and not form["inputs"].get("csrfmiddlewaretoken")
    )

    assert not missing, f"POST forms without csrfmiddlewaretoken: {missing}"
    reached = {page for page, _ in posting}
    # The walk reached the forms that matter: sign-in, sign-out, admin edits, deletes and review decisions.
    assert "/accounts/login/" in reached and "/ui/" in reached
    assert any(page.endswith("/add/") for page in reached)
    assert any(page.endswith("/delete/") for page in reached)
    assert any(action.endswith("/approve/") for _, action in posting), sorted(posting)


def test_a_post_without_the_token_is_refused(owner):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)

    assert browser.post("/admin/schemas_app/subscription/add/", {"webhook_url": "https://x.example"}).status_code == 403


def test_behind_a_configured_tls_proxy_https_answers_carry_hsts_and_only_secure_cookies(settings, owner):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    browser = Client(HTTP_X_FORWARDED_PROTO="https")

    login_page = browser.get("/accounts/login/")
    signed_in = browser.post(
        "/accounts/login/",
        {
            "username": "owner",
            "password": "owner-password",
            "csrfmiddlewaretoken": login_page.cookies["csrftoken"].value,
        },
    )

    assert login_page["Strict-Transport-Security"] == f"max-age={ONE_YEAR}; includeSubDomains"
    assert signed_in.status_code == 302
    assert signed_in.cookies["sessionid"]["secure"] and signed_in.cookies["sessionid"]["httponly"]
    assert signed_in.cookies["csrftoken"]["secure"]


def test_a_forwarded_proto_header_is_not_believed_unless_a_proxy_is_configured(settings):
    settings.SECURE_PROXY_SSL_HEADER = None

    answer = Client(HTTP_X_FORWARDED_PROTO="https").get("/accounts/login/")

    assert answer.status_code == 200
    assert "Strict-Transport-Security" not in answer
