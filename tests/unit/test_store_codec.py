"""Values in etcd: JSON without resourceVersion on the way in, mod_revision on the way out."""

from __future__ import annotations

import base64
import json

import pytest

from bosun.store.codec import (
    decode_object,
    encode_object,
    parse_resource_version,
    with_resource_version,
)
from bosun.store.errors import InvalidResourceVersion, Rejected

# A record as etcd 3.4's gateway returns it (int64 fields as strings).
KV = {"key": "L3JlZ2lzdHJ5L3BvZHMvZGVmYXVsdC9h", "create_revision": "4", "mod_revision": "5",
      "version": "2", "value": "eyJhIjoxfQ=="}


def _stored(value: str) -> dict:
    return json.loads(base64.b64decode(value))


def test_resource_version_is_not_stored_and_the_caller_object_is_untouched():
    obj = {"kind": "Pod", "metadata": {"name": "a", "resourceVersion": "7"}, "spec": {}}
    assert _stored(encode_object(obj)) == {"kind": "Pod", "metadata": {"name": "a"}, "spec": {}}
    assert obj["metadata"]["resourceVersion"] == "7"


def test_non_ascii_survives_the_round_trip():
    obj = {"metadata": {"annotations": {"note": "größe ✓"}}}
    assert _stored(encode_object(obj)) == obj


def test_only_objects_are_stored():
    with pytest.raises(TypeError):
        encode_object(["not", "an", "object"])


def test_decode_sets_resource_version_from_mod_revision():
    assert decode_object(KV) == {"a": 1, "metadata": {"resourceVersion": "5"}}


def test_decode_with_an_explicit_revision():
    assert decode_object(KV, 9)["metadata"]["resourceVersion"] == "9"


@pytest.mark.parametrize("value", ["bm90IGpzb24=", "WzEsMl0="], ids=["not-json", "json-list"])
def test_a_stored_value_that_is_not_an_object_is_rejected(value):
    with pytest.raises(Rejected) as caught:
        decode_object(dict(KV, value=value))
    assert caught.value.key == "/registry/pods/default/a"


def test_with_resource_version_copies_metadata():
    obj = {"metadata": {"name": "a"}}
    copy = with_resource_version(obj, 3)
    assert copy == {"metadata": {"name": "a", "resourceVersion": "3"}}
    assert obj == {"metadata": {"name": "a"}}


@pytest.mark.parametrize("value", ["", "0", "-1", "abc", "1.5", " 12", "١٢", None, 12],
                         ids=["empty", "zero", "negative", "letters", "float", "space",
                              "arabic-digits", "none", "int-not-string"])
def test_invalid_resource_versions(value):
    with pytest.raises(InvalidResourceVersion):
        parse_resource_version(value, "/registry/pods/default/a")


def test_valid_resource_version():
    assert parse_resource_version("12345") == 12345
