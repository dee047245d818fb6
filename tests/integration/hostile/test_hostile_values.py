"""Hostile values in every text field, number and path segment of every endpoint: the answer is never a 500,
an error is the JSON error shape, and a refused request stores nothing.

Classes: sizes, nesting depths, numeric ranges, odd Unicode, path traversal, script and SQL payloads, wrong types.
"""

import json

import pytest

from schemas_app.models import Schema, SubjectConfig, SubjectMode, SubjectVersion
from tests import hostile_stats
from tests.integration.api.helpers import CONTENT_TYPE, TICK_V1, register

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

VALUES = {
    "size": ["x" * 70_000, "9" * 5000],
    "depth": ["[" * 200 + "]" * 200, '{"a":' * 100 + "1" + "}" * 100],
    "range": ["-1", "0", "2147483648", "9223372036854775808", "-9223372036854775809", "1e400", "NaN"],
    "unicode": ["\u202e", "\u200b", "\ufeff", "١", "\U0001d518", "e\u0301", "\x7f", "\uffff"],
    "traversal": ["../../etc/passwd", "..", "/absolute", "a/../../b", "%2e%2e%2f", "\\..\\x"],
    "script": ["<script>alert(1)</script>", "${jndi:ldap://127.0.0.1/a}", "{{7*7}}", "javascript:alert(1)"],
    "sql": ["' OR '1'='1", "1; DROP TABLE schemas_app_schema; --", '"; SELECT pg_sleep(5); --'],
}
TYPES = [5, -1, 1.5, True, None, [], {}, ["x"], {"a": "b"}]

# (method, path with {segment}, body builder taking a value or None)
SEGMENT_ENDPOINTS = [
    ("GET", "/subjects/{v}/versions"),
    ("GET", "/subjects/ticks-value/versions/{v}"),
    ("GET", "/subjects/ticks-value/versions/{v}/schema"),
    ("GET", "/subjects/ticks-value/versions/{v}/referencedby"),
    ("GET", "/schemas/ids/{v}"),
    ("GET", "/schemas/guids/{v}"),
    ("GET", "/schemas/{v}"),
    ("GET", "/schemas/{v}/versions"),
    ("GET", "/config/{v}"),
    ("GET", "/mode/{v}"),
    ("DELETE", "/subjects/{v}"),
    ("DELETE", "/subjects/ticks-value/versions/{v}"),
    ("POST", "/subjects/{v}/versions"),
    ("POST", "/compatibility/subjects/ticks-value/versions/{v}"),
]
QUERY_ENDPOINTS = [
    ("/subjects", ["offset", "limit", "subjectPrefix", "deleted"]),
    ("/schemas", ["offset", "limit", "subjectPrefix", "latestOnly"]),
    ("/schemas/ids/1", ["subject", "format", "fetchMaxId"]),
    ("/subjects/ticks-value/versions/1", ["format", "deleted"]),
]
BODY_ENDPOINTS = [
    (
        "POST",
        "/subjects/ticks-value/versions",
        ["schema", "schemaType", "references", "metadata", "ruleSet", "normalize"],
    ),
    ("POST", "/subjects/ticks-value", ["schema", "references"]),
    ("POST", "/compatibility/subjects/ticks-value/versions", ["schema", "references"]),
    ("POST", "/schemas/ticks-value/compatibility", ["schema"]),
    ("PUT", "/config/ticks-value", ["compatibility", "compatibilityRules", "normalize", "lintExcept", "alias"]),
    ("PUT", "/mode/ticks-value", ["mode"]),
]


def stored():
    return (
        Schema.objects.count(),
        SubjectVersion.objects.count(),
        SubjectConfig.objects.count(),
        SubjectMode.objects.count(),
    )


def check(response, input_class, before):
    hostile_stats.record("table", input_class, response.status_code)
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body["error_code"], int) and isinstance(body["message"], str), body
        assert stored() == before, f"a refused request stored something: {response.content[:200]}"


def quote(value: str) -> str:
    from urllib.parse import quote as url_quote

    return url_quote(value, safe="")


@pytest.fixture
def seeded(api):
    register(api, "ticks-value", TICK_V1)
    return api


@pytest.mark.parametrize("input_class", sorted(VALUES))
def test_hostile_path_segments(seeded, input_class):
    for method, template in SEGMENT_ENDPOINTS:
        for value in VALUES[input_class]:
            before = stored()
            path = template.format(v=quote(value))
            body = json.dumps({"schema": TICK_V1}) if method == "POST" else ""
            check(seeded.generic(method, path, body, content_type=CONTENT_TYPE), input_class, before)


@pytest.mark.parametrize("input_class", sorted(VALUES))
def test_hostile_query_parameters(seeded, input_class):
    for path, names in QUERY_ENDPOINTS:
        for name in names:
            for value in VALUES[input_class]:
                before = stored()
                check(seeded.get(path, {name: value}), input_class, before)


@pytest.mark.parametrize("input_class", [*sorted(VALUES), "types"])
def test_hostile_body_fields(seeded, input_class):
    values = TYPES if input_class == "types" else VALUES[input_class]
    for method, path, fields in BODY_ENDPOINTS:
        for field in fields:
            for value in values:
                body = {"schema": TICK_V1} if "config" not in path and "mode" not in path else {}
                if field == "references" and isinstance(value, str):
                    value = [{"name": value, "subject": value, "version": 1}]
                body[field] = value
                before = stored()
                response = seeded.generic(method, path, json.dumps(body), content_type=CONTENT_TYPE)
                check(response, input_class, before)
