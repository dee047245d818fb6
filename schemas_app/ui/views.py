"""Thin views of the browser pages: parse the request, call one selector, render a template.

A page the viewer may not read answers 404 (never 403, which would confirm that it exists).
"""

import csv
import functools
import json
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_GET, require_POST

from schemas_app import codegen_jobs, codegen_selectors
from schemas_app.api.codegen import job_payload
from schemas_app.errors import JobNotFound, RegistryError
from schemas_app.models import GenerationJob
from schemas_app.ui import selectors


def page_view(view):
    """Send anonymous visitors to the login page (unless anonymous reading is on) and render 404s as pages."""
    return require_GET(_signed_in_unless_anonymous_read(view, anonymous_allowed=True))


def form_view(view):
    """A page that takes a POST (CSRF checked by the middleware): signed-in people only, 404s rendered as pages."""
    return require_POST(_signed_in_unless_anonymous_read(view, anonymous_allowed=False))


def _signed_in_unless_anonymous_read(view, *, anonymous_allowed: bool):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated and not (anonymous_allowed and settings.REGISTRY_ANONYMOUS_READ):
            return redirect_to_login(request.get_full_path())
        try:
            return view(request, *args, **kwargs)
        except Http404:
            return render(request, "ui/not_found.html", status=404)

    return wrapper


@page_view
def catalogue(request):
    query = request.GET.get("q", "")
    page, groups = selectors.catalogue(viewer=request.user, query=query, page=request.GET.get("page", 1))
    context = {"page": page, "groups": groups, "query": query, "query_string": urlencode({"q": query}) if query else ""}
    return render(request, "ui/catalogue.html", context)


@page_view
def subject(request, subject, version=None):
    found = selectors.readable_subject(viewer=request.user, name=subject, tenant_slug=request.GET.get("tenant"))
    shown = selectors.version_of(found, version)
    context = {
        "subject": found,
        "version": shown,
        "source": selectors.source_html(shown.schema),
        "documentation": selectors.documentation_html(shown),
        "imports": selectors.imports_of(shown),
        "imported_by": selectors.imported_by(viewer=request.user, version=shown),
        "versions": selectors.version_rows(found),
        "config": selectors.subject_settings(found),
        "reviews": selectors.subject_reviews(found),
        "code_languages": selectors.code_languages(viewer=request.user, version=shown),
        "codegen_refusal": selectors.codegen_refusal(viewer=request.user, subject=found),
    }
    return render(request, "ui/subject.html", context)


@form_view
def generate(request, subject):
    """Start generating code for one subject version, as POST /generate/{language} does; follow it on its page."""
    found = selectors.readable_subject(viewer=request.user, name=subject, tenant_slug=request.POST.get("tenant"))
    try:
        started = codegen_jobs.generation_start(
            tenant=codegen_selectors.tenant_by_slug(slug=found.tenant.slug, viewer=request.user),
            language=request.POST.get("language", "")[:LANGUAGE_MAX_LENGTH],
            selection={"subject": found.name, "version": request.POST.get("version", "")[:16] or "latest"},
            acting_user=request.user,
        )
    except RegistryError as error:
        return _refused(request, found, error)
    if _wants_json(request):
        payload = {**job_payload(request, started.job), "cached": started.cached, "page_url": _job_page(started.job)}
        return JsonResponse(payload, status=200 if started.cached else 202)
    return redirect(_job_page(started.job), permanent=False)


@page_view
def job(request, job_id):
    """A code generation job: its progress, refreshing itself until it ends, then its download or why it failed."""
    try:
        found = codegen_selectors.job_get(viewer=request.user, job_id=job_id)
    except JobNotFound:
        raise Http404("No such job") from None
    running = found.state in (GenerationJob.State.QUEUED, GenerationJob.State.RUNNING)
    return render(request, "ui/job.html", {"job": found, "running": running})


# A language name is short; the cut keeps an absurd one out of the error message.
LANGUAGE_MAX_LENGTH = 64


def _job_page(job: GenerationJob) -> str:
    return reverse("ui-job", args=[job.pk])


def _refused(request, found, error: RegistryError) -> HttpResponse:
    """Answer a refused generation as the API answers the error: its status, body and headers (Retry-After)."""
    if _wants_json(request):
        return JsonResponse(error.as_dict(), status=error.status, headers=error.headers())
    page = render_to_string("ui/generation_refused.html", {"subject": found, "error": error}, request=request)
    return HttpResponse(page, status=error.status, headers=error.headers())


def _wants_json(request) -> bool:
    """Return True for the page's script, which asks for JSON; a plain form submission asks for HTML."""
    return request.headers.get("Accept", "").startswith("application/json")


@page_view
def diff(request, subject):
    found = selectors.readable_subject(viewer=request.user, name=subject, tenant_slug=request.GET.get("tenant"))
    versions = selectors.version_rows(found)
    newest = versions[-1].version
    to_number = request.GET.get("to") or newest
    from_number = request.GET.get("from") or max(int(to_number) - 1 if str(to_number).isdigit() else 1, 1)
    old = selectors.version_of(found, from_number)
    new = selectors.version_of(found, to_number)
    context = {"subject": found, "old": old, "new": new, "diff": selectors.diff(old=old, new=new), "versions": versions}
    return render(request, "ui/diff.html", context)


@page_view
def history(request, subject):
    found = selectors.readable_subject(viewer=request.user, name=subject, tenant_slug=request.GET.get("tenant"))
    return render(request, "ui/history.html", {"subject": found, "history": selectors.subject_history(found)})


AUDIT_FILTERS = ("subject", "tenant", "actor", "action", "since", "until")


@page_view
def audit(request):
    selectors.require_auditor(request.user)
    filters = {name: request.GET.get(name, "").strip() for name in AUDIT_FILTERS}
    entries = selectors.audit_entries(
        viewer=request.user,
        subject=filters["subject"],
        tenant=filters["tenant"],
        actor=filters["actor"],
        action=filters["action"],
        since=parse_date(filters["since"]) if filters["since"] else None,
        until=parse_date(filters["until"]) if filters["until"] else None,
    )
    export = request.GET.get("export")
    if export == "csv":
        return _csv_response("audit.csv", [selectors.audit_row(entry) for entry in entries.iterator()])
    if export == "json":
        response = JsonResponse([selectors.audit_row(entry) for entry in entries.iterator()], safe=False)
        response["Content-Disposition"] = 'attachment; filename="audit.json"'
        return response
    page = Paginator(entries, selectors.AUDIT_PAGE_SIZE).get_page(request.GET.get("page", 1))
    query = urlencode({name: value for name, value in filters.items() if value})
    return render(
        request,
        "ui/audit.html",
        {"page": page, "filters": filters, "query": query, "actions": selectors.ACTIONS},
    )


@page_view
def pii(request):
    inventory = selectors.pii_inventory(viewer=request.user)
    if request.GET.get("export") == "csv":
        return _csv_response("pii-inventory.csv", inventory)
    return render(request, "ui/pii.html", {"inventory": inventory})


def _csv_response(filename: str, rows: list[dict]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    if rows:
        writer = csv.DictWriter(response, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({key: _csv_safe(value) for key, value in row.items()} for row in rows)
    return response


def _csv_safe(value):
    """Keep spreadsheet programs from running a cell as a formula."""
    text = value if isinstance(value, str) else json.dumps(value) if isinstance(value, dict | list) else value
    if isinstance(text, str) and text[:1] in ("=", "+", "-", "@"):
        return "'" + text
    return text
