"""Kubernetes quantities: exact values, canonical text, millicores and bytes."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bosun.objects import quantity
from bosun.objects.quantity import QuantityError


@pytest.mark.parametrize(("text", "value"), [
    ("100m", Fraction(1, 10)), ("0.5", Fraction(1, 2)), ("1", 1), ("64Mi", 64 * 2**20),
    ("1Gi", 2**30), ("1.5Gi", 3 * 2**29), ("1k", 1000), ("1M", 10**6), ("1e3", 1000),
    ("1E", 10**18), ("2E3", 2000), ("5n", Fraction(5, 10**9)), ("-1", -1), ("+2", 2),
    (".5", Fraction(1, 2)), ("1.", 1), (3, 3), (0.25, Fraction(1, 4)), ("1e-3", Fraction(1, 1000)),
])
def test_parse(text, value):
    assert quantity.parse(text) == value


@pytest.mark.parametrize(("text", "canonical"), [
    ("0.5", "500m"), ("1.5", "1500m"), ("100m", "100m"), ("1000", "1k"), ("1500", "1500"),
    ("1024Mi", "1Gi"), ("1.5Gi", "1536Mi"), ("64Mi", "64Mi"), ("0.5Ki", "512"), ("2048", "2048"),
    ("1e3", "1e3"), ("1000m", "1"), ("0", "0"), ("0Mi", "0"), ("1G", "1G"),
    ("128974848", "128974848"),
    ("1Ki", "1Ki"), ("1025Ki", "1025Ki"), ("0.1", "100m"), ("0.0000000001", "1n"), (2, "2"),
    (0.5, "500m"), ("12e6", "12e6"), ("1.5e3", "1500"),
], ids=lambda v: str(v))
def test_canonical_form_is_what_the_api_server_stores(text, canonical):
    assert quantity.canonical(text) == canonical


@pytest.mark.parametrize(("text", "millicores"), [
    ("100m", 100), ("0.5", 500), ("1", 1000), ("2", 2000), ("1.0001", 1001), ("1n", 1),
])
def test_to_millicores_rounds_up(text, millicores):
    assert quantity.to_millicores(text) == millicores


@pytest.mark.parametrize(("text", "size"), [
    ("64Mi", 67108864), ("1Gi", 1073741824), ("128974848", 128974848), ("129e6", 129000000),
    ("1k", 1000), ("0.5", 1),
])
def test_to_bytes_rounds_up(text, size):
    assert quantity.to_bytes(text) == size


@pytest.mark.parametrize("text", ["", "lots", "1.2.3", "Mi", "1 Gi", "1Mii", "1K", "1x", "--1",
                                  "."])
def test_malformed_quantities_raise_with_kubernetes_message(text):
    with pytest.raises(QuantityError) as err:
        quantity.parse(text)
    assert "quantit" in str(err.value)


def test_format_error_message_is_kubernetes_wording():
    with pytest.raises(QuantityError, match=r"quantities must match the regular expression "
                       r"'\^\(\[\+-\]\?\[0-9\.\]\+\)"):
        quantity.parse("lots")


@pytest.mark.parametrize("value", [True, None, [], float("inf"), float("nan")],
                         ids=["bool", "none", "list", "inf", "nan"])
def test_non_quantities_raise(value):
    with pytest.raises(QuantityError):
        quantity.parse(value)


@given(st.integers(min_value=-(10**15), max_value=10**15),
       st.sampled_from(["", "m", "k", "M", "Ki", "Mi", "Gi", "n", "u"]))
def test_canonical_keeps_the_value_and_is_stable(number, suffix):
    text = f"{number}{suffix}"
    canonical = quantity.canonical(text)
    assert quantity.parse(canonical) == quantity.parse(text)
    assert quantity.canonical(canonical) == canonical
