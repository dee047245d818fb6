"""Template helpers of the browser pages: links between types, escaped like everything else."""

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def type_link(type_name: str, links: dict):
    """Link a type to where it is declared (this page or the subject that declares it); plain text otherwise."""
    target = links.get(type_name)
    if target is None:
        return format_html("<code>{}</code>", type_name)
    return format_html('<a href="{}"><code>{}</code></a>', target, type_name)


@register.simple_tag
def subject_url(name: str, tenant: str = "default", suffix: str = "") -> str:
    """Return the page of a subject (with ?tenant= outside the default tenant), escaped by the template."""
    from urllib.parse import quote

    url = f"/ui/subjects/{quote(name)}/{suffix}"
    if tenant and tenant != "default":
        url += ("&" if "?" in url else "?") + f"tenant={quote(tenant)}"
    return url
