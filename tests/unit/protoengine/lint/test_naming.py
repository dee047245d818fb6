"""Identifiers split into words the way buf splits them, so verdicts and suggestions match buf's."""

import pytest

from protoengine.lint.naming import (
    is_lower_snake_case,
    is_pascal_case,
    is_upper_snake_case,
    split_words,
    to_lower_snake_case,
    to_pascal_case,
    to_upper_snake_case,
)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("HTTPServer", ("HTTP", "Server")),
        ("userName", ("user", "Name")),
        ("JSONPascalJSON", ("JSON", "Pascal", "JSON")),
        ("FooJSON1Pascal", ("Foo", "JSON1", "Pascal")),
        ("v1beta1", ("v1beta1",)),
        ("PascalCase1", ("Pascal", "Case1")),
        ("__PASCAL___case__", ("PASCAL", "case")),
        ("foo-bar.baz qux", ("foo", "bar", "baz", "qux")),
        ("V1X", ("V1X",)),
        ("ABc", ("A", "Bc")),
        ("", ()),
    ],
)
def test_it_splits_words_at_case_changes_and_delimiters(name, words):
    assert split_words(name) == words


@pytest.mark.parametrize(
    ("name", "snake"),
    [
        ("HTTPServer", "http_server"),
        ("PascalCase__Hello", "pascal_case_hello"),
        ("FooJSON_1Pascal", "foo_json_1_pascal"),
        ("v1beta_1", "v1beta_1"),
        ("_foo_bar_baz_", "foo_bar_baz"),
        ("PASCAL-case", "pascal_case"),
        ("  Foo  Bar  _Baz", "foo_bar_baz"),
    ],
)
def test_it_spells_lower_snake_case_like_buf(name, snake):
    assert to_lower_snake_case(name) == snake


def test_it_spells_upper_snake_and_pascal_case_like_buf():
    assert to_upper_snake_case("HTTPServer") == "HTTP_SERVER"
    assert to_upper_snake_case("orderStatus") == "ORDER_STATUS"
    assert to_pascal_case("order_book") == "OrderBook"
    assert to_pascal_case("PASCAL_case") == "PASCALCase"
    assert to_pascal_case("  Foo.Bar.Baz") == "FooBarBaz"


@pytest.mark.parametrize(
    "name",
    [
        "user_name",
        "sma_20",
        "v1beta1",
        "userName",
        "_x",
        "a__b",
        "HTTP",
        "x_",
        "Order",
        "ORDER_SIDE",
        "OrderSide",
        "order",
        "Order_Side",
    ],
)
def test_its_case_checks_agree_with_converting_and_comparing(name):
    assert is_lower_snake_case(name) == (to_lower_snake_case(name) == name)
    assert is_upper_snake_case(name) == (to_upper_snake_case(name) == name)
    assert is_pascal_case(name) == (to_pascal_case(name) == name)
