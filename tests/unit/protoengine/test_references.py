"""The one reference resolver: texts of references and of theirs, and a loop named by where it closes."""

import pytest

from protoengine.references import Ref, ReferenceCycle, resolve_references

STORE = {
    ("money", 1): ("money text", []),
    ("order", 2): ("order text", [Ref("common/money.proto", "money", 1)]),
    ("a", 1): ("a text", [Ref("b.proto", "b", 1)]),
    ("b", 1): ("b text", [Ref("a.proto", "a", 1)]),
}


def fetch(reference: Ref):
    return STORE[(reference.subject, reference.version)]


def test_it_returns_the_texts_of_references_and_of_their_references_by_import_path():
    assert resolve_references([Ref("trading/order.proto", "order", 2)], fetch) == {
        "trading/order.proto": "order text",
        "common/money.proto": "money text",
    }


def test_a_reference_loop_names_the_subject_version_that_closes_it():
    with pytest.raises(ReferenceCycle) as raised:
        resolve_references([Ref("a.proto", "a", 1)], fetch)
    assert (raised.value.subject, raised.value.version) == ("a", 1)
